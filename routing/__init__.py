"""Pure routing and SLA logic: no Ray, no database, no I/O; every instant is passed in as seconds since
the epoch (UTC).  The actors wrap these state machines and own the timers and persistence.

Configuration (the caller reads the files):
    ``routing.config.load_routing_config(text, file) -> RoutingConfig`` and
    ``routing.sla_config.load_sla_config(text, file, queues=..., departments=...) -> SlaConfig`` refuse
    bad config with ``ConfigError(file, line, reason)``; ``LastGoodConfig`` keeps the last good one.
    ``routing.tickets_config.load_tickets_config(text, file)`` parses tickets.toml; its ``vocabulary()``
    (ticket types, priorities, categories, with the CRM's segments of ``routing.vocabulary``) is passed to
    both loaders so a value one file names in another's vocabulary must exist.
    Classification: ``routing.classification.classify`` for a new ticket, ``raise_on_message`` for
    each later message of an open ticket (a gas leak reported at any point makes it an emergency).

Conversation actor (routing a new conversation, widening, transfers):
    ``placement = config.workflow.place(attributes, staffed=...)`` -> queue, requirements, priority;
    reminder at ``placement.deadline(entered_at)``; when it fires,
    ``config.workflow.next_placement(placement, attributes, staffed=...)`` (None: stay).
    Overflow: ``config.queues[q].overflow`` (``full(len(book))`` at arrival, ``due_at(entered_at)``).
    Transfers: ``routing.transfer.plan_transfer(config, Transfer(...), current_queue, requirements)``.

Queue actor (one ``QueueBook`` from ``config.queues[q].new_book()`` plus ``Reservations(q, timeout)``):
    ``book.add(id, requirements, enqueued_at=..., priority=..., preferred_agent=...)``,
    ``book.put_agent(profile, availability)`` / ``book.update_agent(availability)`` on every agent push,
    then ``book.assign(now) -> [Offer(conversation, agent_id)]``; for each offer
    ``reservations.offer(...)`` and a timer at ``expires_at``; outcome: ``book.accepted(id)`` or
    ``book.declined(id, exclude=...)``; ``book.remove(id)`` when it leaves; ``book.widen``,
    ``book.set_priority`` for widening and escalation; ``book.staffed(requirements)``.

Agent actor (one ``AgentState``, the single authority over capacity):
    ``sign_in``/``sign_out`` (returns the conversations to requeue), ``start_break``/``end_break``,
    ``reserve`` (an offer; False = no capacity, requeue without blame), ``accept``, ``reject`` /
    ``offer_timed_out`` (-> ``MissOutcome``, break after N misses), ``finish`` (-> wrap-up end for a
    timer) / ``wrap_up_done``, then push ``availability()`` to every queue of the agent.

Ticket SLA (``TicketSla(config.policies.for_ticket(type, priority), opened_at)``):
    ``responded(now)``, ``status_changed(status, now)``, ``next_deadline()`` for the durable reminder,
    ``clock.remaining(now)``; escalation: ``config.escalations.due(sla, attributes, fired, now)`` and
    ``next_due(...)`` for the next reminder; each step's ``key`` recorded as a ticket event.

Simulation: ``routing.simulation.simulate(...)``; ``routing.simulation.main(argv)`` is
``switchboard simulate``.  Erlang C: ``routing.erlang``.
"""
