"""The informing service's actors: the outbox writer every message enters through, the client senders
that claim and send it, and the recorder of channels' delivery reports."""
