//! The templates of `init --template`: answers for the common shapes of a scenario (two parties
//! bargaining, several parties forming coalitions, an organisation handling a crisis), each a
//! complete [`Answers`] that runs on the built-in simulator as it is and that a person edits
//! into their own. Data only: the generation is the same as for any answers.

use super::{ActorAnswers, Answers, MetricAnswers, MetricKind, SIMULATOR};

/// Every template: its name and what it is, in the order the wizard offers them.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "bilateral-negotiation",
        "two parties bargain over one deal (a contract, a treaty, a settlement)",
    ),
    (
        "multi-party-coalition",
        "four parties with different interests form and break coalitions over one decision",
    ),
    (
        "crisis-response",
        "an organisation, a regulator and the public through the first days of a crisis",
    ),
];

fn actor(name: &str, short_name: &str, role: &str, goals: &[&str]) -> ActorAnswers {
    ActorAnswers {
        name: name.to_string(),
        short_name: Some(short_name.to_string()),
        role: role.to_string(),
        goals: goals.iter().map(|g| g.to_string()).collect(),
        model: Some(SIMULATOR.to_string()),
    }
}

fn scale(name: &str, question: &str) -> MetricAnswers {
    MetricAnswers {
        name: name.to_string(),
        question: question.to_string(),
        kind: MetricKind::Continuous,
        range: Some([0.0, 10.0]),
        categories: Vec::new(),
    }
}

fn yes_no(name: &str, question: &str) -> MetricAnswers {
    MetricAnswers {
        name: name.to_string(),
        question: question.to_string(),
        kind: MetricKind::Boolean,
        range: None,
        categories: Vec::new(),
    }
}

fn categories(name: &str, question: &str, categories: &[&str]) -> MetricAnswers {
    MetricAnswers {
        name: name.to_string(),
        question: question.to_string(),
        kind: MetricKind::Categorical,
        range: None,
        categories: categories.iter().map(|c| c.to_string()).collect(),
    }
}

/// The answers of the template `name`, or `None` when there is no such template.
pub fn answers(name: &str) -> Option<Answers> {
    let a = match name {
        "bilateral-negotiation" => Answers {
            title: "Supplier Contract Renewal".into(),
            description: "A manufacturer and its main parts supplier have four weeks to renew a \
                three-year supply contract. The supplier wants a price rise to cover its energy \
                costs; the manufacturer wants the old price and shorter delivery times."
                .into(),
            situation: "The current contract ends in four weeks. The supplier has asked for a \
                12% price rise; the manufacturer has offered 2%. Both say they would rather \
                not switch partners."
                .into(),
            actors: vec![
                actor(
                    "Northfield Manufacturing",
                    "buyer",
                    "Manufacturer buying parts under the contract",
                    &[
                        "Keep the price rise under 5%",
                        "Cut delivery times from ten days to five",
                        "Keep a reliable supplier for the next three years",
                    ],
                ),
                actor(
                    "Castell Components",
                    "supplier",
                    "Parts supplier whose largest customer is the buyer",
                    &[
                        "Win a price rise that covers higher energy costs",
                        "Secure a three-year volume commitment",
                        "Avoid penalties for late deliveries",
                    ],
                ),
            ],
            turns: 4,
            turn_duration: Some("1 week".into()),
            metrics: vec![
                scale(
                    "agreement_closeness",
                    "How close are the two parties to an agreement, from 0 (far apart) to 10 (signed)?",
                ),
                yes_no("deal_signed", "Have the parties signed or agreed a new contract?"),
            ],
            world_model: None,
            communication: false,
            runs: 3,
            budget: None,
        },
        "multi-party-coalition" => Answers {
            title: "Regional Water Allocation".into(),
            description: "Four users of one river must agree how to share its water through a \
                dry summer. No party can pass a plan alone: any allocation needs the support of \
                three of the four."
                .into(),
            situation: "The river authority forecasts 30% less water than last summer. The \
                farmers, the city, the power plant and the environmental trust have each \
                published a plan that gives themselves most of what they used last year."
                .into(),
            actors: vec![
                actor(
                    "Valley Farmers' Association",
                    "farmers",
                    "Irrigation users, the largest user by volume",
                    &["Keep irrigation above 80% of last year", "Win compensation for any cut"],
                ),
                actor(
                    "City of Lowater",
                    "city",
                    "Municipal drinking-water supplier",
                    &["Guarantee drinking water for every household", "Avoid rationing in the city"],
                ),
                actor(
                    "Ridge Power Station",
                    "power",
                    "Power plant that needs river water for cooling",
                    &["Keep enough cooling water to run at full output", "Avoid buying power from outside"],
                ),
                actor(
                    "River Trust",
                    "trust",
                    "Environmental trust with a legal say over minimum river flow",
                    &["Keep the legal minimum flow for the fish", "Get a long-term plan for dry years"],
                ),
            ],
            turns: 5,
            turn_duration: Some("1 week".into()),
            metrics: vec![
                scale(
                    "coalition_strength",
                    "How strong is the largest coalition behind one plan, from 0 (everyone alone) to 10 (all four agree)?",
                ),
                categories(
                    "leading_plan",
                    "Whose interests does the plan with the most support favour most?",
                    &["farmers", "city", "power", "trust", "balanced"],
                ),
                yes_no("plan_adopted", "Has an allocation plan been adopted with three or more parties behind it?"),
            ],
            world_model: None,
            communication: true,
            runs: 3,
            budget: None,
        },
        "crisis-response" => Answers {
            title: "Data Breach at a Regional Hospital".into(),
            description: "A regional hospital finds that patient records were stolen. Over the \
                first days it must contain the breach, tell patients and the regulator, and keep \
                the public's trust, while the regulator and the press press for answers."
                .into(),
            situation: "Day 0: the hospital's security team finds that records of about 40,000 \
                patients were copied to an unknown server. Nothing is public yet. The law gives \
                the hospital 72 hours to tell the regulator."
                .into(),
            actors: vec![
                actor(
                    "St. Brennan Hospital",
                    "hospital",
                    "The hospital's executive team, responsible for the response",
                    &[
                        "Contain the breach and restore systems",
                        "Tell the regulator and patients within the legal deadlines",
                        "Keep patients' trust",
                    ],
                ),
                actor(
                    "Health Data Regulator",
                    "regulator",
                    "The national regulator that enforces data-protection law",
                    &["Make sure patients are told promptly", "Find out whether the law was broken"],
                ),
                actor(
                    "Coastal Gazette",
                    "press",
                    "The regional newspaper's health desk",
                    &["Report what happened accurately and first", "Hold the hospital to account"],
                ),
            ],
            turns: 5,
            turn_duration: Some("1 day".into()),
            metrics: vec![
                scale(
                    "public_trust",
                    "How much does the public trust the hospital, from 0 (none) to 10 (fully)?",
                ),
                categories(
                    "response_stage",
                    "How far has the hospital's response got?",
                    &["investigating", "contained", "disclosed", "recovering"],
                ),
                yes_no("regulator_notified", "Has the hospital notified the regulator?"),
            ],
            world_model: None,
            communication: false,
            runs: 3,
            budget: None,
        },
        _ => return None,
    };
    Some(a)
}
