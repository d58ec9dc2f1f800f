"""The threading rule of channels.email.thread_keys, property by property."""

from __future__ import annotations

from channels.email.thread_keys import OwnMessageId, SubjectTag, ThreadResolver, parse_message_ids

RESOLVER = ThreadResolver(domain="example.com")
ROOT = "<CAF1=root@mail.gmail.com>"


def test_reply_chain_threads_to_the_first_reference() -> None:
    first = RESOLVER.resolve(ROOT, [], [], "Питання")
    second = RESOLVER.resolve("<r2@ukr.net>", ["<r1@ukr.net>"], [ROOT, "<r1@ukr.net>"], "Re: Питання")
    third = RESOLVER.resolve("<r3@ukr.net>", ["<r2@ukr.net>"], [ROOT, "<r1@ukr.net>", "<r2@ukr.net>"], "Re: x")
    assert first.thread_key == second.thread_key == third.thread_key == f"email:{ROOT}"


def test_same_sender_new_subject_is_a_new_conversation() -> None:
    a = RESOLVER.resolve("<a@ukr.net>", [], [], "Показники")
    b = RESOLVER.resolve("<b@ukr.net>", [], [], "Інше питання")
    assert a.thread_key != b.thread_key


def test_forwarded_message_starts_its_own_conversation() -> None:
    forwarded = RESOLVER.resolve("<fwd@ukr.net>", [], [], "Fwd: Re: Питання")
    assert forwarded.thread_key == "email:<fwd@ukr.net>"


def test_fork_with_changed_subject_stays_in_its_thread() -> None:
    fork = RESOLVER.resolve("<f@i.ua>", ["<r1@ukr.net>"], [ROOT, "<r1@ukr.net>"], "Зовсім інша тема")
    assert fork.thread_key == f"email:{ROOT}"


def test_reply_to_our_reply_with_only_in_reply_to_finds_the_root_and_ticket() -> None:
    headers = RESOLVER.outbound_headers(f"email:{ROOT}", "26-001042", ROOT, [ROOT], unique="out-1")
    ours = headers["Message-ID"]
    link = RESOLVER.resolve("<client-reply@ukr.net>", [ours], [], "Re: [#26-001042] Питання")
    assert link.thread_key == f"email:{ROOT}"
    assert link.ticket_number == "26-001042"
    assert link.via_own_message


def test_trimmed_references_that_keep_only_our_id_still_thread() -> None:
    ours = OwnMessageId.make(ROOT, 7, "example.com")
    link = RESOLVER.resolve("<x@ukr.net>", [], [ours], "Re: без тегу")
    assert (link.thread_key, link.ticket_number) == (f"email:{ROOT}", "7")


def test_missing_headers_fall_back_to_the_ticket_number_in_the_subject() -> None:
    link = RESOLVER.resolve("<lost-headers@ukr.net>", [], [], "Re: [#26-001042] Відключення")
    assert link.ticket_number == "26-001042"
    assert link.thread_key == "email:<lost-headers@ukr.net>"


def test_someone_elses_id_pattern_on_another_domain_is_not_ours() -> None:
    foreign = OwnMessageId.make(ROOT, 5, "other.example")
    assert OwnMessageId.parse(foreign, "example.com") is None
    assert RESOLVER.resolve("<m@x>", [foreign], [], "s").thread_key == f"email:{foreign}"


def test_own_id_is_stable_for_the_same_outbound() -> None:
    assert OwnMessageId.make(ROOT, 1, "example.com", "k") == OwnMessageId.make(ROOT, 1, "example.com", "k")
    assert OwnMessageId.make(ROOT, 1, "example.com", "k") != OwnMessageId.make(ROOT, 1, "example.com", "k2")


def test_outbound_references_start_with_the_root() -> None:
    headers = RESOLVER.outbound_headers(f"email:{ROOT}", 3, "<r2@ukr.net>", ["<r1@ukr.net>"], unique="u")
    assert headers["References"] == f"{ROOT} <r1@ukr.net> <r2@ukr.net>"
    assert headers["In-Reply-To"] == "<r2@ukr.net>"


def test_subject_tag_is_applied_once_with_re() -> None:
    tag = SubjectTag()
    assert tag.apply("Питання", 12, reply=True) == "[#12] Re: Питання"
    assert tag.apply("Re: [#12] Питання", 12, reply=True) == "[#12] Re: Питання"
    assert tag.apply("Відп: Питання", 12, reply=True) == "[#12] Відп: Питання"
    assert tag.apply("Нове повідомлення", 12, reply=False) == "[#12] Нове повідомлення"


def test_custom_tag_format_is_found() -> None:
    tag = SubjectTag("(Заявка №{ticket_number})")
    assert tag.find("RE: (Заявка №77) світло") == "77"
    assert tag.apply("світло", 77, reply=False) == "(Заявка №77) світло"


def test_message_ids_with_and_without_brackets() -> None:
    assert parse_message_ids("<a@b> <c@d>\r\n <a@b>") == ["<a@b>", "<c@d>"]
    assert parse_message_ids("a@b.c") == ["<a@b.c>"]
    assert parse_message_ids("") == []


def test_remembered_message_keeps_an_in_reply_to_only_reply_in_its_thread() -> None:
    resolver = ThreadResolver(domain="example.com")
    assert resolver.resolve("<r2@ukr.net>", ["<r1@ukr.net>"], [], "Re: x").thread_key == "email:<r1@ukr.net>"
    resolver.remember("<r1@ukr.net>", ROOT)
    assert resolver.resolve("<r2@ukr.net>", ["<r1@ukr.net>"], [], "Re: x").thread_key == f"email:{ROOT}"


def test_memory_is_bounded() -> None:
    resolver = ThreadResolver(domain="example.com", memory_size=2)
    for n in range(3):
        resolver.remember(f"<m{n}@x>", ROOT)
    assert resolver.resolve("<y@x>", ["<m0@x>"], [], None).thread_key == "email:<m0@x>"
    assert resolver.resolve("<y@x>", ["<m2@x>"], [], None).thread_key == f"email:{ROOT}"
