"""The client card in headless Chromium (CM-01, CM-08): found by phone, balances in UAH with the debt or
overpayment said in words, the client at a glance, a contact added from the card."""

from __future__ import annotations

from tests.support.engine import add_client


async def test_an_operator_finds_a_card_adds_a_contact_and_reads_the_history(engine, site, browser, sign_in):
    await add_client(engine, "Гнатюк Оксана Тарасівна", "+380671230099")
    await sign_in("sc_operator")
    await browser.fill("#search-form input[name=phone]", "0671230099")
    await browser.click("#search-form button")
    await browser.wait_for("document.querySelector('#hits tr')")
    await browser.click("#hits tr")
    await browser.wait_for("document.querySelector('#card-name') && "
                           "document.querySelector('#card-name').textContent === 'Гнатюк Оксана Тарасівна'")
    accounts = await browser.text("#card-accounts")
    assert "Переплата" in accounts and "120,50" in accounts and ("₴" in accounts or "грн" in accounts)
    assert "Борг разом" in await browser.text("#card-glance")

    await browser.fill("#add-contact input[name=value]", "o.hnatiuk@example.ua")
    await browser.js("(s => { s.value = 'email'; })(document.querySelector('#add-contact select'))")
    await browser.click("#add-contact button")
    await browser.wait_for("document.querySelector('#card').textContent.includes('o.hnatiuk@example.ua')")


async def test_a_supervisor_merges_a_duplicate_from_the_card(engine, site, browser, sign_in):
    """The duplicate check's offer to fix it (high-level requirements §2 item 5), walked in the card."""
    survivor = await add_client(engine, "Кравчук Василь Петрович", "+380671230101")
    await add_client(engine, "Кравчук Василь Петрович", "+380501230102")
    await sign_in("supervisor")
    await browser.goto(str(site.make_url("/desktop")))
    await browser.js("window.confirm = () => true")
    await browser.wait_for("document.querySelector('#search-form')")
    await browser.fill("#search-form input[name=phone]", "0671230101")
    await browser.click("#search-form button")
    await browser.wait_for("document.querySelector('#hits tr')")
    await browser.click("#hits tr")
    await browser.wait_for("document.querySelector('#duplicates-toggle')")
    await browser.js("document.querySelector('#duplicates-toggle').open = true")
    await browser.wait_for("document.querySelector('#card-duplicates button')")
    assert "схожі ПІБ та адреса" in await browser.text("#card-duplicates")
    await browser.click("#card-duplicates button")
    await browser.wait_for("document.querySelector('#card').textContent.includes('+380501230102')")
    card = await browser.js(f"fetch('/api/v1/clients/{survivor}').then(r => r.json())")
    assert len(card["accounts"]) == 2
