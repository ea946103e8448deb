#!/usr/bin/env python3
"""Writes sql/sample-history.sql: a wealth-management assistant's conversation history for the quickstart.

Deterministic (seeded). Each topic has the rephrased query the app stores, a few ways users actually ask, and
the assistant's answer. Run it again after editing the topics: python3 eng/generate-sample-history.py
"""
import random
import uuid
from pathlib import Path

TENANTS = ["northbridge-wealth", "harbor-advisors", "summit-private", "evergreen-planning"]

# (rephrased query, [user phrasings], answer)
TOPICS = [
    ("What fees do you charge on a stocks and shares ISA?",
     ["what are the fees on my ISA", "How much does the stocks & shares ISA cost?", "isa fees?"],
     "Our stocks and shares ISA has a platform fee of 0.25% a year, capped at £250, plus the ongoing charges of the funds you hold. There is no fee to open, top up or transfer out."),
    ("How much can I pay into an ISA this tax year?",
     ["whats the ISA allowance", "How much can I put in my ISA this year?", "ISA limit for this year"],
     "The ISA allowance is £20,000 per tax year (6 April to 5 April), shared across all your ISAs. A Lifetime ISA counts towards it with its own £4,000 limit."),
    ("Can I transfer my ISA from another provider?",
     ["how do I move my isa to you", "Can I transfer an ISA from my old bank?", "isa transfer in"],
     "Yes. Start an ISA transfer in the app and we contact your old provider; don't withdraw the money yourself or it loses its tax-free status. Cash transfers take about 15 working days, investments up to 30."),
    ("What is the difference between a Lifetime ISA and a stocks and shares ISA?",
     ["LISA vs stocks and shares ISA", "Is a lifetime ISA better than a normal ISA?", "lifetime isa or s&s isa"],
     "A Lifetime ISA adds a 25% government bonus on up to £4,000 a year but can only be used for a first home or after age 60 without a 25% penalty. A stocks and shares ISA has no bonus and no withdrawal restrictions."),
    ("How much can I contribute to my pension this year?",
     ["pension annual allowance", "What's the most I can pay into my pension?", "pension contribution limit"],
     "The annual allowance is £60,000 or 100% of your earnings, whichever is lower. It tapers down to £10,000 for very high earners, and you can carry forward unused allowance from the last three years."),
    ("When can I access my pension?",
     ["at what age can I take my pension", "When can I start drawing my pension?", "pension access age"],
     "You can access a personal pension from age 55, rising to 57 from April 2028. You can usually take 25% tax free and the rest as taxable income."),
    ("How does tax relief on pension contributions work?",
     ["do I get tax relief on my pension", "How does pension tax relief work?", "pension tax relief explained"],
     "We claim basic-rate relief from HMRC and add it to your pension, so £80 from you becomes £100. Higher and additional-rate taxpayers claim the rest through their self-assessment tax return."),
    ("Should I consolidate my old workplace pensions?",
     ["should I combine my pensions", "Is it worth merging my old pensions?", "consolidate pensions?"],
     "Consolidating can cut fees and make pensions easier to manage, but check first for exit fees, guaranteed annuity rates or protected tax-free cash you would lose. We show these before any transfer."),
    ("What is the difference between a SIPP and a workplace pension?",
     ["sipp vs workplace pension", "Is a SIPP the same as a company pension?", "what is a sipp"],
     "A SIPP is a personal pension you run yourself and choose the investments for. A workplace pension is arranged by your employer, who must also contribute. You can have both."),
    ("How is my portfolio performing this year?",
     ["how are my investments doing", "What's my portfolio return this year?", "portfolio performance ytd"],
     "Your dashboard shows your year-to-date return after fees, split by account and by fund. Returns are time-weighted, so your own deposits and withdrawals don't distort them."),
    ("How often is my portfolio rebalanced?",
     ["do you rebalance my portfolio", "When does my portfolio get rebalanced?", "rebalancing frequency"],
     "Managed portfolios are checked daily and rebalanced when an asset class drifts more than 5% from its target, or at least once a quarter. Rebalancing inside an ISA or pension has no tax cost."),
    ("What is my current asset allocation?",
     ["how is my money invested", "What's my asset allocation?", "split between shares and bonds"],
     "Your portfolio page shows the split between equities, bonds, property and cash, and by region. Your risk level decides the target; for a balanced portfolio it is roughly 60% equities and 40% bonds."),
    ("How do I change my risk level?",
     ["can I change my risk profile", "How do I make my portfolio less risky?", "change risk level"],
     "Retake the risk questionnaire in Settings, then choose a new level. We move your portfolio to the new target at the next rebalance, with no dealing charge."),
    ("What are the ongoing charges of my funds?",
     ["fund fees", "What's the OCF of my funds?", "how much do the funds cost"],
     "Each fund's ongoing charges figure (OCF) is on its fact sheet and in your cost summary; across our managed portfolios it averages 0.12% a year, on top of the platform fee."),
    ("How do I withdraw money from my account?",
     ["how can I take money out", "How do I make a withdrawal?", "withdraw cash from my account"],
     "Choose Withdraw in the app, pick the account and amount, and we sell what's needed. Money reaches your nominated bank account within 3 to 5 working days."),
    ("How do I set up a regular monthly payment?",
     ["set up a direct debit", "Can I invest monthly?", "monthly contribution setup"],
     "Go to Payments, choose Regular payment and set the amount and day of the month. The first collection takes about 10 days, and you can change or pause it any time."),
    ("Is my money protected if the company goes bust?",
     ["is my money safe", "What happens if you go bust?", "FSCS protection"],
     "Your investments are held separately from our own money, in the name of a nominee company, so creditors cannot touch them. If anything were missing, the FSCS covers up to £85,000 per person."),
    ("How do I open a Junior ISA for my child?",
     ["open a JISA", "Can I open an ISA for my kids?", "junior isa for my daughter"],
     "A parent or guardian can open a Junior ISA in the app for any child under 18 living in the UK. Anyone can pay in up to £9,000 a year in total, and the child takes control at 18."),
    ("How does capital gains tax apply to my investments?",
     ["do I pay CGT on my investments", "capital gains tax on shares", "when do I pay capital gains tax"],
     "Gains in ISAs and pensions are tax free. In a general investment account, gains above the £3,000 annual exempt amount are taxed at 18% or 24% depending on your income."),
    ("How are dividends taxed?",
     ["dividend tax", "Do I pay tax on dividends?", "how much tax on my dividends"],
     "Dividends in ISAs and pensions are tax free. Elsewhere the first £500 a year is tax free, then 8.75%, 33.75% or 39.35% depending on your income tax band."),
    ("What is Bed and ISA?",
     ["bed and isa explained", "How does bed and ISA work?", "move my GIA into my ISA"],
     "Bed and ISA sells investments in your general account and buys them back inside your ISA the same day, using your ISA allowance so future gains and income are tax free. The sale may realise a capital gain."),
    ("How do I get my annual tax statement?",
     ["where is my tax certificate", "Can I download my tax statement?", "consolidated tax voucher"],
     "Your consolidated tax certificate for the general investment account is in Documents from late May each year. ISAs and pensions don't need one."),
    ("How do I update my address?",
     ["change my address", "I moved house, how do I update my details?", "update personal details"],
     "Update your address under Settings > Personal details. We may ask for proof of address, such as a recent utility bill, before the change takes effect."),
    ("How do I nominate a beneficiary for my pension?",
     ["pension beneficiary", "Who gets my pension if I die?", "expression of wish form"],
     "Complete the expression of wish in Settings > Pension > Beneficiaries. The scheme administrator uses it to decide who receives your pension; it usually falls outside your estate for inheritance tax."),
    ("What happens to my ISA when I die?",
     ["isa after death", "Can my spouse inherit my ISA?", "ISA inheritance"],
     "Your ISA keeps its tax-free status until your estate is settled, and a spouse or civil partner gets an extra allowance equal to its value (the additional permitted subscription)."),
    ("Can I invest in ethical or ESG funds?",
     ["do you have ethical portfolios", "Can I invest sustainably?", "esg investing options"],
     "Yes. Our responsible portfolios screen out tobacco, weapons and thermal coal and favour companies with strong environmental, social and governance scores, at the same platform fee."),
    ("What is the minimum investment?",
     ["minimum amount to invest", "How little can I start with?", "minimum deposit"],
     "You can start with £100, or £25 a month by regular payment. Junior ISAs start from £25."),
    ("How do I close my account?",
     ["close my account", "I want to leave, how do I close?", "account closure"],
     "Contact us or use Settings > Close account. We sell your investments or transfer them to another provider; there is no exit fee."),
    ("How does the annuity option work at retirement?",
     ["should I buy an annuity", "What is an annuity?", "annuity vs drawdown"],
     "An annuity turns some or all of your pension into a guaranteed income for life. Drawdown keeps it invested and flexible but can run out. Many people combine the two."),
    ("What is pension drawdown?",
     ["how does drawdown work", "Can I take income from my pension flexibly?", "flexi-access drawdown"],
     "Drawdown lets you take 25% tax free and draw the rest as taxable income when you choose, while the remainder stays invested. Your income isn't guaranteed and depends on returns."),
    ("How much do I need to save for retirement?",
     ["am I saving enough for retirement", "How much should I put aside for my pension?", "retirement savings target"],
     "Our retirement planner estimates it from your target income, age and current savings. As a rule of thumb, half your age as a percentage of salary, started at your first job, keeps you on track."),
    ("Can I hold cash in my portfolio?",
     ["cash in my isa", "Do you pay interest on cash?", "uninvested cash"],
     "Yes. Uninvested cash earns interest at our published rate, currently 3.5% a year, paid monthly, and is held with UK banks."),
    ("How do I invest a lump sum?",
     ["invest a large amount", "Should I invest all at once or drip feed?", "lump sum investing"],
     "Add the lump sum from Payments. Investing it all at once has historically done better more often than drip-feeding, but phasing it in over a few months reduces the regret of bad timing."),
    ("What are the risks of investing?",
     ["can I lose money", "Is investing risky?", "investment risk warning"],
     "The value of investments can fall as well as rise and you may get back less than you put in. Investing suits money you won't need for at least five years."),
    ("How do I contact a financial adviser?",
     ["speak to an adviser", "Can I talk to a real person?", "book an advice session"],
     "Book a call with one of our qualified advisers from the Help page. The first 30-minute session is free; full advice is charged as a fixed fee agreed before we start."),
    ("How do I reset my password?",
     ["forgot my password", "I can't log in", "password reset"],
     "Choose Forgot password on the login screen and follow the link we email you. For your security the link expires after 30 minutes."),
    ("How do I turn on two-factor authentication?",
     ["enable 2fa", "How do I make my account more secure?", "two factor setup"],
     "Go to Settings > Security and turn on two-factor authentication with an authenticator app or SMS. We'll ask for a code whenever you log in on a new device."),
    ("What is a general investment account?",
     ["what is a GIA", "Do I need a general investment account?", "gia explained"],
     "A general investment account has no allowance limits and no tax wrapper: gains and dividends above the yearly allowances are taxable. It's useful once your ISA allowance is used."),
    ("Can I have more than one ISA?",
     ["multiple isas", "Can I pay into two ISAs this year?", "more than one isa"],
     "Yes. Since April 2024 you can pay into more than one ISA of the same type in a tax year, as long as the total stays within £20,000."),
    ("How are my fees taken?",
     ["when do you take fees", "How do you charge me?", "fee collection"],
     "Fees are worked out daily on the value of your account and taken monthly, first from cash and otherwise by selling a small part of your investments."),
]

def uid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "querycache-sample/" + "/".join(map(str, parts))))

def sql(text):
    return "'" + text.replace("'", "''") + "'"

def main():
    rng = random.Random(2026)
    rows = []
    for c in range(360):
        tenant = TENANTS[c % len(TENANTS)] if rng.random() < 0.7 else TENANTS[0]
        user = f"{tenant.split('-')[0]}-client-{rng.randrange(1, 60):02d}"
        conversation = uid("conversation", c)
        at = 1_700_000_000 + c * 3600 * 7 + rng.randrange(0, 3600)
        rows.append((uid(c, "system"), conversation, tenant, user, "system", "You are AskWealth, a careful wealth-management assistant.", None, at))
        for turn in range(rng.choice([1, 1, 2, 2, 3, 4])):
            query, phrasings, answer = rng.choice(TOPICS)
            asked = rng.choice(phrasings + [query])
            at += rng.randrange(20, 600)
            rows.append((uid(c, turn, "user"), conversation, tenant, user, "user", asked, query, at))
            if rng.random() < 0.06:
                continue  # the user left before the assistant answered
            at += rng.randrange(2, 8)
            rows.append((uid(c, turn, "assistant"), conversation, tenant, user, "assistant", answer, None, at))

    out = ["-- Generated by eng/generate-sample-history.py: a sample AskWealth conversation history for the quickstart.",
           "-- Idempotent: loading it twice adds nothing. Requires sql/sample-app-schema.sql.",
           "INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content, rephrased_query, created_at) VALUES"]
    values = [f"('{r[0]}', '{r[1]}', {sql(r[2])}, {sql(r[3])}, '{r[4]}', {sql(r[5])}, {sql(r[6]) if r[6] else 'NULL'}, to_timestamp({r[7]}))" for r in rows]
    out.append(",\n".join(values))
    out.append("ON CONFLICT (id) DO NOTHING;")
    Path(__file__).resolve().parent.parent.joinpath("sql", "sample-history.sql").write_text("\n".join(out) + "\n")
    print(f"{len(rows)} messages in 360 conversations")

if __name__ == "__main__":
    main()
