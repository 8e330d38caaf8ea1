"""The story the bundled sample tells: a US medtech team, its products, pay plan and planted causes.

Only constants live here, so the generator (core/sample/team.py) reads as mechanism and this file reads
as the scenario a sales director would recognise. Rates are per rep and week unless named otherwise.
"""
from __future__ import annotations

CAUSES = ("territory_imbalance", "training_gap", "incentive_misalignment", "follow_up_discipline",
          "activity_shortfall", "plan_adherence", "pipeline", "customer_retention", "ramping")
HEALTHY = "none"

# How many reps of a 40-rep team get each cause (scaled with the team size); the rest are healthy.
DEFAULT_CAUSES = {"territory_imbalance": 3, "training_gap": 2, "incentive_misalignment": 2,
                  "follow_up_discipline": 3, "activity_shortfall": 2, "plan_adherence": 2,
                  "pipeline": 2, "customer_retention": 2, "ramping": 2}
DEFAULT_TEAM = 40

REGIONS = {
    "Northeast": ("MA", "CT", "RI", "NH", "VT", "ME", "NY", "NJ", "PA"),
    "Southeast": ("VA", "NC", "SC", "GA", "FL", "TN", "AL"),
    "Central": ("OH", "MI", "IN", "IL", "WI", "MN", "MO", "IA"),
    "West": ("CA", "OR", "WA", "AZ", "NV", "UT", "CO"),
}
REPS_PER_MANAGER = 10

ROLES = ("Sales Rep", "Senior Sales Rep", "Clinical Specialist")
ROLE_SHARES = (0.6, 0.25, 0.15)
COMPETENCIES = ("Product knowledge", "Clinical knowledge", "Discovery", "Objection handling", "Pitch",
                "Planning & CRM discipline", "Negotiation")
# Expected manager rating per role; competencies not listed expect 3.
EXPECTED = {
    "Sales Rep": {},
    "Senior Sales Rep": {"Product knowledge": 4.0, "Discovery": 3.5, "Objection handling": 3.5,
                         "Pitch": 3.5, "Negotiation": 4.0, "Planning & CRM discipline": 3.5},
    "Clinical Specialist": {"Product knowledge": 4.0, "Clinical knowledge": 4.0, "Negotiation": 2.5},
}
TRAINING_TOPICS = ("product", "clinical data", "competitor", "process")
QUIZ_QUESTIONS = 20
QUIZZES_PER_MONTH = 2

# Products: list price per unit, the segment they serve, and commission rate of the pay plan.
# The legacy stent pays most; the new focus product pays least — the seed of misaligned incentives.
PRODUCTS = ("FlexStent", "OrthoFix Plate", "ClearView Catheter", "NeuroPulse")
FOCUS_PRODUCT = "NeuroPulse"
UNIT_PRICE = (1200.0, 850.0, 450.0, 3500.0)
PRODUCT_SEGMENT = ("Cardiology", "Orthopedics", "Vascular", "Neurology")
COMMISSION = (0.10, 0.03, 0.03, 0.02)
BONUS_SHARE_OF_QUOTA = 0.01        # paid in a quarter at or above quota
LAUNCH_AT = 0.45                   # NeuroPulse launches this far into the history (quarter start)
LAUNCH_RAMP_MONTHS = 9

# Account types: share of accounts, mean annual potential ($), and the segment mix they buy.
ACCOUNT_TYPES = ("Hospital", "ASC", "Clinic", "IDN", "Practice")
ACCOUNT_TYPE_SHARES = (0.34, 0.2, 0.2, 0.05, 0.21)
ACCOUNT_TYPE_POTENTIAL = (400_000.0, 150_000.0, 80_000.0, 900_000.0, 50_000.0)
ACCOUNTS_PER_TERRITORY = 24
SEGMENTS = ("Multi-specialty", "Cardiology", "Orthopedics", "Vascular", "Neurology")
# Share of an account's potential per product (FlexStent, OrthoFix, ClearView, NeuroPulse).
SEGMENT_AFFINITY = {
    "Multi-specialty": (0.34, 0.26, 0.22, 0.18),
    "Cardiology": (0.64, 0.0, 0.36, 0.0),
    "Orthopedics": (0.0, 0.88, 0.0, 0.12),
    "Vascular": (0.25, 0.0, 0.75, 0.0),
    "Neurology": (0.0, 0.0, 0.15, 0.85),
}
SEGMENT_WORD = ("Specialty", "Cardiology", "Orthopedic", "Vascular", "Neurology")
NAME_PATTERNS = {   # in ACCOUNT_TYPES order
    "Hospital": ("{city} General Hospital", "{city} Medical Center", "{city} Regional Medical Center",
                 "St. Mary's Hospital of {city}", "{city} Memorial Hospital", "Mercy Hospital {city}"),
    "ASC": ("{city} Surgery Center", "{city} {specialty} Surgery Center", "{city} Outpatient Surgical"),
    "Clinic": ("{city} {specialty} Clinic", "{city} {specialty} Institute", "{city} {specialty} Care"),
    "IDN": ("{city} Health System", "{city} Health Partners", "{city} Healthcare Network"),
    "Practice": ("{city} {specialty} Associates", "{city} {specialty} Partners", "{city} {specialty} Group"),
}

# Revenue: a healthy rep captures this share of the territory's potential; quota is set to the
# healthy capture of an average territory divided by HEALTHY_OVER_QUOTA (healthy reps beat goal).
CAPTURE = 0.30
HEALTHY_OVER_QUOTA = 1.12
MARKET_GROWTH = 0.06               # per year
SEASONALITY = (0.90, 0.94, 1.03, 0.98, 1.00, 1.02, 0.92, 0.91, 1.03, 1.04, 1.05, 1.18)
MONTHLY_BUYER = 150_000.0         # annual potential of one product ($) above which orders are monthly
MISSED_ORDER = 0.04
LINE_NOISE = 0.20                  # lognormal sigma of one monthly sales line
RETURN_SHARE = 0.004               # share of lines that are credits (negative revenue)

# Activities per week of a healthy rep (meeting + presentation + workshop + demo + case_support ≈ 5.9).
ACTIVITY_RATES = {"meeting": 4.0, "presentation": 0.1, "workshop": 0.085, "demo": 0.8,
                  "case_support": 0.9, "phone": 1.0, "email": 0.7}
OVERLAP_SHARE = 0.01               # activities on a neighbouring territory's accounts
PLANNED_UNKNOWN = 0.02
FOLLOW_UPS_PER_WEEK = 1.1
OPPORTUNITIES_PER_MONTH = 2.4
WIN_RATE = 0.38
PIPELINE_COVERAGE = 3.2            # open pipeline ÷ quarterly quota of a healthy rep

# Healthy levels and what each planted cause changes at full severity.
HEALTHY_POTENTIAL_INDEX = (96.0, 108.0)
IMBALANCED_POTENTIAL_INDEX = (62.0, 75.0)
CAUSE_REVENUE = (0.70, 0.80)       # revenue multiplier of a behavioural cause (drawn per rep)
INCENTIVE_PRODUCT_MIX = (1.45, 0.62, 0.62, 0.08)   # per product, incentive-misaligned reps
QUARTER_MONTH_WEIGHTS = (0.45, 0.65, 1.90)        # incentive reps bunch into the quarter's last month
HEALTHY_ON_TIME = (0.96, 0.995)
LATE_ON_TIME = (0.50, 0.63)
HEALTHY_PLANNED = (0.80, 0.92)
POOR_PLANNED = 0.40
CONTACT_MIX = (0.68, 0.20, 0.12)   # user, buyer, admin
POOR_CONTACT_MIX = (0.94, 0.045, 0.015)
SHORTFALL_ACTIVITY = 0.36          # ≈ 2 meetings a week
PIPELINE_CREATION = 0.35           # coverage ≈ 1×
PIPELINE_WIN_RATE = 0.22
CHURN_HEALTHY, CHURN_PLANTED, WIN_BACK = 0.015, 0.26, 0.55   # per quarter
KNOWLEDGE_HEALTHY = (0.86, 0.94)   # share of quiz questions right
KNOWLEDGE_GAP = 0.65
RAMP_MONTHS = 9
RAMP_HIRED_DAYS_BEFORE = (190, 240)   # before the end of the latest complete quarter
RAMP_FLOOR = 0.25                  # a new hire starts at this share of a healthy rep's revenue

FIRST_NAMES = ("James", "Maria", "Robert", "Jennifer", "Michael", "Linda", "David", "Patricia",
               "William", "Elizabeth", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
               "Christopher", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty",
               "Mark", "Sandra", "Steven", "Ashley", "Andrew", "Kimberly", "Joshua", "Emily",
               "Kevin", "Donna", "Brian", "Michelle", "Ryan", "Carol", "Jason", "Amanda", "Eric",
               "Melissa", "Jacob", "Deborah", "Nicholas", "Stephanie", "Tyler", "Rebecca", "Aaron",
               "Laura", "Priya", "Wei", "Carlos", "Ana", "Omar", "Fatima", "Luis", "Mei", "Raj", "Sofia")
LAST_NAMES = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
              "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
              "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
              "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
              "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green",
              "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter",
              "Roberts", "Patel", "Chen", "Kim", "Shah", "Murphy", "Cohen", "O'Brien", "Sullivan",
              "Kowalski", "Fischer")
