"""Where the personal data sits in what the API returns: each record the engine shows (client card,
contact point, account, ticket, ticket event, message, conversation, live event), its fields that hold
personal data and of which kind, and its internal keys.  ``dashboards.masking`` walks a reply along
these shapes; a field not named here is not personal data and is shown as it is."""

from __future__ import annotations

from dashboards.masking import (
           ADDRESS_OF,
           Author,
           ByField,
           Internal,
           Keyed,
           KindBeside,
           Personal,
           ShownAs,
           ThreadKey,
)
from routing.informing.config import ADDRESS_KIND

NAME, PHONE, EMAIL = Personal("name"), Personal("phone"), Personal("email")
ADDRESS, ACCOUNT_NO, BALANCE = Personal("address"), Personal("account_no"), Personal("balance")
INTERNAL = Internal()

CONTACT_POINT = {"value": KindBeside("kind")}
CLIENT = {"full_name": NAME}
BILLING_DETAIL = {"charges": [{"amount": BALANCE}], "payments": [{"amount": BALANCE}]}
ACCOUNT = {"account_no": ACCOUNT_NO, "eic_code": ACCOUNT_NO, "service_address": ADDRESS, "balance": BALANCE,
           "billing": BILLING_DETAIL}
TICKET_ATTRIBUTES = {"client_name": NAME, "call": {"caller": PHONE, "number": PHONE},
                     "shared_contact": {"phone": PHONE}, "call_back": {"number": PHONE}}
TICKET = {"sender": KindBeside("channel"), "client_name": NAME, "attributes": TICKET_ATTRIBUTES}
MESSAGE = {"author": Author(), "external_id": INTERNAL}
CARD = {
    "client": CLIENT, "contact_points": [CONTACT_POINT], "accounts": [ACCOUNT],
    "related_contacts": [{"full_name": NAME, "phones": PHONE, "roles": [{"account_no": ACCOUNT_NO}]}],
    "open_tickets": [TICKET], "past_tickets": [TICKET], "last_messages": [MESSAGE],
    "dashboard": {"payments_sum": BALANCE, "debt": BALANCE, "overpayment": BALANCE,
                  "last_payment": {"amount": BALANCE}},
}
TICKET_EVENT = {"author": Author(), "data": {"sender": KindBeside("channel"), "caller": PHONE, "number": PHONE,
                                             "phone": PHONE, "client_name": NAME}}

CONVERSATION = {"thread_key": INTERNAL, "state": INTERNAL}
CONVERSATION_VIEW = {"conversation": CONVERSATION, "ticket": TICKET, "messages": [MESSAGE], "card": CARD}
SEARCH = {"hits": [{"full_name": NAME, "account_no": ACCOUNT_NO, "service_address": ADDRESS}]}
#: Why a card may be the same client (``crm_core.duplicates``): a shared contact point, EIC code or address.
DUPLICATE_REASON = ByField("reason", {
    **{kind: {"value": KindBeside("reason")} for kind in ("phone", "email", "telegram", "viber")},
    "eic_code": {"value": ACCOUNT_NO}, "name_and_address": {"service_address": ADDRESS}})
DUPLICATES = {"candidates": [{"full_name": NAME, "reasons": [DUPLICATE_REASON]}]}

AGENT = {"conversations": ShownAs("conversation_ids"),
         "offers": [{"conversation": ShownAs("conversation_id"), "summary": TICKET_ATTRIBUTES}]}
#: A live event (the wall's and the desktop's streams), by its type.
EVENT = ByField("type", {
    "conversation": {"id": ShownAs("conversation_id"), "state": {**CONVERSATION, "ticket": TICKET}},
    "message": {"id": ShownAs("conversation_id")},
    "offer": {"state": {"conversation": ShownAs("conversation_id"), "summary": TICKET_ATTRIBUTES}},
    "agent": {"state": AGENT},
    "screen_pop": {"id": ShownAs("conversation_id"),
                   "state": {"ticket": TICKET, "card": CARD, "caller": PHONE, "call": TICKET_ATTRIBUTES["call"]}},
    "escalation": {"state": {"conversation": INTERNAL}},
    "call_abandoned": {"id": ShownAs("conversation_id")},
    "reply": {"id": INTERNAL},  # to a web-chat visitor's own stream; the thread is the visitor's session
})
#: The live state as the wall loads it: every queue, agent and conversation.
SNAPSHOT = Keyed([EVENT])

#: What a client card's change keeps before and after (``crm_core.client_edits``).
CARD_CHANGE = {"full_name": NAME, "value": KindBeside("kind"), "account_no": ACCOUNT_NO, "service_address": ADDRESS,
               "contact_points": [CONTACT_POINT]}
AUDIT_ENTRY = {"actor": Author(), "before": CARD_CHANGE, "after": CARD_CHANGE, "entity_id": ThreadKey()}
CLIENT_HISTORY = {"changes": [AUDIT_ENTRY], "ended_links": [{"account_no": ACCOUNT_NO}]}
#: The actor view: a conversation actor is named by its conversation's public id.
ACTORS = [ByField("kind", {"conversation": {"entities": [{"id": ShownAs("state.conversation_id")}]}})]
#: A template filled for a client: each channel's body with the address it would go to.
TEMPLATE_PREVIEW = {"channels": {channel: {"address": Personal(ADDRESS_OF[kind])} for channel, kind in ADDRESS_KIND.items()}}
#: The merges of duplicate cards a client took part in (``crm_core.client_merges``).
MERGES = {"merges": [{"survivor_name": NAME, "merged_name": NAME}]}
#: Meter readings the centre took, each on its account.
READINGS = {"readings": [{"account_no": ACCOUNT_NO}]}
