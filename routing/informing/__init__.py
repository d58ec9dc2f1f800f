"""Pure rules of the informing service: message templates and their checks, SMS segment counting, the
contact policy (consent, stop lists) and the channel fallback chain.  No I/O."""
