"""The health and safety screen: yes/no questions for contraindications and cautions."""

from __future__ import annotations

from dataclasses import dataclass

from .text import N_

CONTRAINDICATION = "contraindication"
CAUTION = "caution"


@dataclass(frozen=True)
class SafetyQuestion:
    """A yes/no health question; a yes adds ``code`` to contraindications or cautions."""

    code: str
    kind: str  # CONTRAINDICATION or CAUTION
    question: str
    staff_label: str


SAFETY_QUESTIONS = (
    SafetyQuestion(
        "vascular_aneurysm", CONTRAINDICATION,
        N_("Have you ever been told you have an aneurysm (a bulging blood vessel) in your aorta,"
           " brain or elsewhere, or an arteriovenous malformation (AVM)?"),
        "an aneurysm or arteriovenous malformation",
    ),
    SafetyQuestion(
        "brain_bleed", CONTRAINDICATION,
        N_("Have you ever had bleeding in the brain (for example a hemorrhagic stroke)?"),
        "a history of bleeding in the brain",
    ),
    SafetyQuestion(
        "ketamine_allergy", CONTRAINDICATION,
        N_("Have you ever had an allergic or serious reaction to ketamine or esketamine?"),
        "an allergic or serious reaction to ketamine or esketamine",
    ),
    SafetyQuestion(
        "uncontrolled_blood_pressure", CAUTION,
        N_("Do you have high blood pressure that is not under control right now?"),
        "high blood pressure that is not under control",
    ),
    SafetyQuestion(
        "heart_disease", CAUTION,
        N_("Have you had heart disease, a heart attack, or heart failure?"),
        "heart disease, heart attack, or heart failure",
    ),
    SafetyQuestion(
        "psychosis", CAUTION,
        N_("Have you ever had psychosis — for example hearing or seeing things others do not,"
           " strong beliefs others found untrue, or a diagnosis of schizophrenia?"),
        "a history of psychosis",
    ),
    SafetyQuestion(
        "mania", CAUTION,
        N_("Have you been told you have bipolar disorder, or had times of mania (very high"
           " energy, little need for sleep, racing thoughts)?"),
        "bipolar disorder or past episodes of mania",
    ),
    SafetyQuestion(
        "substance_use", CAUTION,
        N_("Do you currently have a problem with alcohol or drug use, including ketamine?"),
        "a current problem with alcohol or drug use",
    ),
    SafetyQuestion(
        "pregnancy", CAUTION,
        N_("Are you pregnant, breastfeeding, or planning a pregnancy?"),
        "pregnant, breastfeeding, or planning a pregnancy",
    ),
    SafetyQuestion(
        "sedatives_or_stimulants", CAUTION,
        N_("Do you currently take benzodiazepines (such as lorazepam or diazepam), sleep"
           " medicines, stimulants (such as ADHD medicines) or MAOIs?"),
        "currently taking benzodiazepines, sleep medicines, stimulants or MAOIs",
    ),
)
