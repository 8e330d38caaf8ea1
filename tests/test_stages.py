"""CRM stages: labels for HubSpot ids, and a funnel in process order (never by deal count)."""
import pandas as pd

from core.kpis.stages import stage_label, stage_labels, stage_order


def test_hubspot_ids_shown_as_labels_other_stages_unchanged():
    assert stage_label("qualifiedtobuy") == "Qualified to buy"
    assert stage_label("decisionmakerboughtin") == "Decision maker bought-in"
    assert stage_label("Negotiation/Review") == "Negotiation/Review"
    s = pd.Series(["contractsent", None, "Demo"])
    assert stage_labels(s).tolist()[::2] == ["Contract sent", "Demo"] and pd.isna(stage_labels(s)[1])


def test_known_vocabularies_follow_the_crm_probabilities():
    hubspot = pd.Series(["contractsent", "appointmentscheduled", "qualifiedtobuy", "contractsent"])
    assert stage_order(hubspot, pd.Series([1.0] * 4)) == ["appointmentscheduled", "qualifiedtobuy", "contractsent"]
    sf = pd.Series(["Negotiation/Review"] * 5 + ["Prospecting", "Proposal/Price Quote"])
    assert stage_order(sf, pd.Series([0.0] * 7)) == ["Prospecting", "Proposal/Price Quote", "Negotiation/Review"]
    assert stage_order(pd.Series(["Engaging", "Prospecting"]), pd.Series([0.0, 0.0])) == ["Prospecting", "Engaging"]


def test_numbered_stages_follow_their_numbers():
    s = pd.Series(["3 - Pilot", "1 - Intro", "10 - Signature", "2 - Fit"])
    assert stage_order(s, pd.Series([0.0] * 4)) == ["1 - Intro", "2 - Fit", "3 - Pilot", "10 - Signature"]


def test_unknown_stages_by_mean_age_of_their_deals_not_by_count():
    """Pilot deals are 100 days old on average, Intro 10, Tender 45: Intro, Tender, Pilot —
    though Pilot has the most deals."""
    s = pd.Series(["Pilot", "Pilot", "Pilot", "Intro", "Tender"])
    age = pd.Series([90.0, 100.0, 110.0, 10.0, 45.0])
    assert stage_order(s, age) == ["Intro", "Tender", "Pilot"]
