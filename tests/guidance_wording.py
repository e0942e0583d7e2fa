"""What the "What you can do now" box of a consultation says to a visitor, for every phase and
voting method, in German and in English: shared by the service tests
(test_consultations_guidance.py) and the view tests (test_consultations_guidance_views.py).

The consultations have a budget of 50,000 € (budget voting only), no cap on supports, the
greedy counting rule, the planned dates below and, when closed, published results and no
initiatives.
"""

from __future__ import annotations

from datetime import date

from participation.models import Phase, VotingMethod
from participation.models.base import utcnow

# Far ahead, so that the planned dates lie in the future on any day the tests run.
PLANNED = {
    "collecting_starts_on": date(2099, 4, 1),
    "voting_starts_on": date(2099, 5, 1),
    "voting_ends_on": date(2099, 6, 1),
    "results_on": date(2099, 7, 1),
}
BEFORE_ALL_DATES = date(2099, 3, 15)
AFTER_ALL_DATES = date(2099, 8, 1)
BUDGET = 50_000

NBSP = "\xa0"
SUPPORT, BUDGET_BALLOT = VotingMethod.SUPPORT, VotingMethod.BUDGET

# (phase, voting method) -> phase label, summary, what you can do, until when, links.
EN: dict[tuple[Phase, VotingMethod], dict] = {}
DE: dict[tuple[Phase, VotingMethod], dict] = {}

for method in (SUPPORT, BUDGET_BALLOT):
    EN[Phase.DRAFT, method] = {
        "phase": "Draft",
        "summary": "This consultation is a draft and visible to moderators only.",
        "can_do": (
            "Citizens cannot see it or take part yet. Check the settings, then move it to the "
            "phase “Collecting proposals”.",
        ),
        "deadline": "Collecting proposals is planned to start on April 1, 2099.",
        "links": (),
    }
    DE[Phase.DRAFT, method] = {
        "phase": "Entwurf",
        "summary": "Dieses Beteiligungsverfahren ist ein Entwurf und nur für das "
        "Moderationsteam sichtbar.",
        "can_do": (
            "Bürgerinnen und Bürger können es noch nicht sehen und sich nicht beteiligen. "
            "Prüfen Sie die Einstellungen und verschieben Sie es dann in die Phase "
            "„Vorschläge sammeln“.",
        ),
        "deadline": "Das Sammeln von Vorschlägen beginnt voraussichtlich am 1. April 2099.",
        "links": (),
    }

EN[Phase.COLLECTING, SUPPORT] = {
    "phase": "Collecting proposals",
    "summary": "Proposals are being collected: everybody can suggest ideas and discuss them.",
    "can_do": (
        "Read the proposals. To submit a proposal or to comment, please log in or register first.",
        "When voting opens, you can support as many proposals as you like.",
    ),
    "deadline": "You can submit proposals until voting opens, planned for May 1, 2099.",
    "links": (("submit_proposal", "Submit a proposal"),),
}
EN[Phase.COLLECTING, BUDGET_BALLOT] = EN[Phase.COLLECTING, SUPPORT] | {
    "can_do": (
        EN[Phase.COLLECTING, SUPPORT]["can_do"][0],
        "When voting opens, you choose on a ballot the projects you want funded; together "
        "they may cost at most €50,000.",
    ),
}
DE[Phase.COLLECTING, SUPPORT] = {
    "phase": "Vorschläge sammeln",
    "summary": "Es werden Vorschläge gesammelt: Alle können Ideen einbringen und darüber "
    "diskutieren.",
    "can_do": (
        "Lesen Sie die Vorschläge. Um einen Vorschlag einzureichen oder zu kommentieren, "
        "melden Sie sich bitte zuerst an oder registrieren Sie sich.",
        "Sobald die Abstimmung beginnt, können Sie beliebig viele Vorschläge unterstützen.",
    ),
    "deadline": "Sie können Vorschläge einreichen, bis die Abstimmung beginnt – geplant am "
    "1. Mai 2099.",
    "links": (("submit_proposal", "Vorschlag einreichen"),),
}
DE[Phase.COLLECTING, BUDGET_BALLOT] = DE[Phase.COLLECTING, SUPPORT] | {
    "can_do": (
        DE[Phase.COLLECTING, SUPPORT]["can_do"][0],
        "Sobald die Abstimmung beginnt, wählen Sie auf einem Stimmzettel die Projekte aus, die "
        f"gefördert werden sollen; zusammen dürfen sie höchstens 50.000{NBSP}€ kosten.",
    ),
}

EN[Phase.VOTING, SUPPORT] = {
    "phase": "Voting",
    "summary": "Voting is open. The proposals can no longer be changed.",
    "can_do": (
        "Read the proposals and support the ones you like.",
        "Please log in or register first to support proposals.",
    ),
    "deadline": "You can vote until June 1, 2099.",
    "links": (("read_proposals", "Go to the proposals"),),
}
EN[Phase.VOTING, BUDGET_BALLOT] = EN[Phase.VOTING, SUPPORT] | {
    "can_do": (
        "Choose on your ballot the projects you want funded; together they may cost at most "
        "€50,000.",
        "Please log in or register first to fill in your ballot.",
    ),
    "links": (("fill_ballot", "Fill in your ballot"),),
}
DE[Phase.VOTING, SUPPORT] = {
    "phase": "Abstimmung",
    "summary": "Die Abstimmung läuft. Die Vorschläge können nicht mehr geändert werden.",
    "can_do": (
        "Lesen Sie die Vorschläge und unterstützen Sie diejenigen, die Ihnen gefallen.",
        "Bitte melden Sie sich zuerst an oder registrieren Sie sich, um Vorschläge zu "
        "unterstützen.",
    ),
    "deadline": "Sie können bis zum 1. Juni 2099 abstimmen.",
    "links": (("read_proposals", "Zu den Vorschlägen"),),
}
DE[Phase.VOTING, BUDGET_BALLOT] = DE[Phase.VOTING, SUPPORT] | {
    "can_do": (
        "Wählen Sie auf Ihrem Stimmzettel die Projekte aus, die gefördert werden sollen; "
        f"zusammen dürfen sie höchstens 50.000{NBSP}€ kosten.",
        "Bitte melden Sie sich zuerst an oder registrieren Sie sich, um Ihren Stimmzettel "
        "auszufüllen.",
    ),
    "links": (("fill_ballot", "Stimmzettel ausfüllen"),),
}

EN[Phase.EVALUATING, SUPPORT] = {
    "phase": "Evaluating",
    "summary": "Voting has ended. The town is evaluating the results.",
    "can_do": (
        "You can still read the proposals and comment on them.",
        "The moderators rank the proposals by their supports and publish the winners when the "
        "consultation closes.",
    ),
    "deadline": "Results are expected on July 1, 2099.",
    "links": (("read_proposals", "Go to the proposals"),),
}
EN[Phase.EVALUATING, BUDGET_BALLOT] = EN[Phase.EVALUATING, SUPPORT] | {
    "can_do": (
        "You can still read the proposals and comment on them.",
        "The ballots are counted by the rule announced before voting: Greedy (most approvals "
        "first).",
    ),
}
DE[Phase.EVALUATING, SUPPORT] = {
    "phase": "Auswertung",
    "summary": "Die Abstimmung ist beendet. Die Stadt wertet die Ergebnisse aus.",
    "can_do": (
        "Sie können die Vorschläge weiterhin lesen und kommentieren.",
        "Das Moderationsteam ordnet die Vorschläge nach ihren Unterstützungen und "
        "veröffentlicht die Gewinner, wenn das Beteiligungsverfahren abgeschlossen wird.",
    ),
    "deadline": "Die Ergebnisse werden für den 1. Juli 2099 erwartet.",
    "links": (("read_proposals", "Zu den Vorschlägen"),),
}
DE[Phase.EVALUATING, BUDGET_BALLOT] = DE[Phase.EVALUATING, SUPPORT] | {
    "can_do": (
        "Sie können die Vorschläge weiterhin lesen und kommentieren.",
        "Die Stimmzettel werden nach der vor der Abstimmung angekündigten Regel ausgezählt: "
        "Greedy (die meisten Zustimmungen zuerst).",
    ),
}

EN[Phase.CLOSED, SUPPORT] = {
    "phase": "Closed",
    "summary": "This consultation is closed.",
    "can_do": (
        "The results are published: see which proposals won.",
        "Once the town starts carrying out the winning proposals, you can follow their "
        "progress as initiatives.",
    ),
    "deadline": "No deadline: the results and the initiatives stay online.",
    "links": (("see_results", "See the results"),),
}
EN[Phase.CLOSED, BUDGET_BALLOT] = EN[Phase.CLOSED, SUPPORT] | {
    "can_do": (
        "The results are published: see which projects are funded.",
        EN[Phase.CLOSED, SUPPORT]["can_do"][1],
    ),
}
DE[Phase.CLOSED, SUPPORT] = {
    "phase": "Abgeschlossen",
    "summary": "Dieses Beteiligungsverfahren ist abgeschlossen.",
    "can_do": (
        "Die Ergebnisse sind veröffentlicht: Sehen Sie, welche Vorschläge gewonnen haben.",
        "Sobald die Stadt mit der Umsetzung der erfolgreichen Vorschläge beginnt, können Sie "
        "deren Fortschritt als Vorhaben verfolgen.",
    ),
    "deadline": "Keine Frist: Die Ergebnisse und die Vorhaben bleiben online.",
    "links": (("see_results", "Ergebnisse ansehen"),),
}
DE[Phase.CLOSED, BUDGET_BALLOT] = DE[Phase.CLOSED, SUPPORT] | {
    "can_do": (
        "Die Ergebnisse sind veröffentlicht: Sehen Sie, welche Projekte gefördert werden.",
        DE[Phase.CLOSED, SUPPORT]["can_do"][1],
    ),
}

WORDING = {"en": EN, "de": DE}
CASES = [
    (locale, phase, method)
    for locale in ("de", "en")
    for phase in Phase
    for method in (SUPPORT, BUDGET_BALLOT)
]
CASE_IDS = [f"{locale}-{phase.value}-{method.value}" for locale, phase, method in CASES]


def consultation_fields(phase: Phase, method: VotingMethod) -> dict:
    """The factory's fields for the consultation the tables describe."""
    fields = {"phase": phase, "voting_method": method, **PLANNED}
    if method is BUDGET_BALLOT:
        fields["budget"] = BUDGET
    if phase is Phase.CLOSED:
        fields["results_published_at"] = utcnow()
    return fields
