"""The mail sandbox: a private Dovecot IMAP server, an SMTP relay that keeps what it gets, and a
generator of Ukrainian customer mail to drive through them (tests, benchmarks and ``make demo``).

Without Dovecot installed (``apt-get install -y dovecot-imapd``) the IMAP half is unavailable;
:func:`DovecotServer.available` says so, and the demo skips its e-mail traffic with a log line.
"""

from channels.sandbox.mail.dovecot import DovecotServer
from channels.sandbox.mail.mail_factory import DEFAULT_SENDERS, GeneratedMail, MailFactory, Sender
from channels.sandbox.mail.smtp_capture import CapturedMail, SmtpCapture
from channels.sandbox.mail.traffic import AppendedMail, run_traffic

__all__ = [
    "DEFAULT_SENDERS", "AppendedMail", "CapturedMail", "DovecotServer", "GeneratedMail", "MailFactory",
    "Sender", "SmtpCapture", "run_traffic",
]
