"""The canonical tables of the data contract (shared/spec/data.md).

Everything downstream of ingest reads only these tables, with exactly these column names and
types. Ingest, the template workbook and the validation report are all driven by this module,
so a column is described once, here.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

STR, DATE, FLOAT, INT, BOOL = "str", "date", "float", "int", "bool"


@dataclass(frozen=True)
class Column:
    """One canonical column: its type, whether the table needs it, and the names CRMs use."""

    name: str
    dtype: str
    required: bool = False
    description: str = ""
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, its unique key (if any) and the names it goes by."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: str | None = None
    synonyms: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_REP = ("rep", "sales rep", "rep name", "owner", "opportunity owner", "deal owner", "sales agent",
        "call owner", "owner full name", "opportunity owner full name",
        "agent", "salesperson", "sales person", "account owner", "user", "employee", "ownerid",
        "owner id", "owner name", "rep id", "representative", "credited rep", "assigned to")
_ACCOUNT = ("account", "account name", "customer", "customer name", "hospital", "facility",
            "account id", "accountid", "customer id", "company", "company name", "institution")
_PRODUCT = ("product", "product name", "item", "sku", "product family", "brand")

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("reps", "One row per sales rep.", (
        Column("rep_id", STR, True, "Unique id of the rep (employee id or CRM user id).",
               ("rep id", "employee id", "user id", "id", "sales rep id", "agent id")),
        Column("rep_name", STR, True, "The rep's name as people know it.",
               ("rep name", "name", "sales rep", "sales agent", "full name", "rep", "employee",
                "representative", "salesperson")),
        Column("region", STR, True, "Sales region (e.g. East, West).",
               ("region", "regional office", "area", "division", "zone")),
        Column("territory_id", STR, True, "The territory the rep owns (one rep, one territory).",
               ("territory", "territory id", "territory code", "terr", "territory name")),
        Column("role", STR, False, "Job role, e.g. Sales Rep, Senior Sales Rep, Clinical Specialist. "
               "Default: Sales Rep.", ("role", "title", "job title", "position")),
        Column("hire_date", DATE, False, "Date the rep started; reps in their first 9 months are ramping.",
               ("hire date", "start date", "date hired", "hired")),
        Column("manager", STR, False, "The rep's first-line manager.",
               ("manager", "sales manager", "reports to", "supervisor", "district manager")),
        Column("end_date", DATE, False, "Last day employed (blank = still on the team); no quota or gap "
               "after it.", ("end date", "termination date", "leave date", "exit date", "date left",
                             "left on", "last day")),
    ), key="rep_id", synonyms=("reps", "sales reps", "roster", "team", "sales team", "sales teams",
                               "employees", "salespeople", "agents", "users", "representatives")),
    Table("territories", "One row per territory.", (
        Column("territory_id", STR, True, "Unique territory id.",
               ("territory", "territory id", "territory code", "terr", "id")),
        Column("territory_name", STR, False, "Readable name of the territory.",
               ("territory name", "name")),
        Column("region", STR, False, "Region the territory belongs to.", ("region", "area")),
        Column("market_potential", FLOAT, False, "Annual $ the territory could buy; when absent, the "
               "sum of its accounts' potential.", ("market potential", "potential", "territory potential")),
    ), key="territory_id", synonyms=("territories", "territory", "alignment", "territory alignment")),
    Table("accounts", "Hospitals, ASCs, clinics, IDNs and practices.", (
        Column("account_id", STR, True, "Unique account id.",
               ("account id", "customer id", "accountid", "id", "account number", "account")),
        Column("account_name", STR, True, "Account name.",
               ("account name", "customer name", "name", "hospital", "facility", "account", "company")),
        Column("territory_id", STR, True, "The territory the account is aligned to.",
               ("territory", "territory id", "terr")),
        Column("account_type", STR, False, "Hospital, ASC, Clinic, IDN, Practice, ...",
               ("account type", "type", "facility type", "customer type", "sector")),
        Column("segment", STR, False, "Specialty or procedure area, e.g. Cardiology.",
               ("segment", "specialty", "therapy area", "procedure area")),
        Column("potential", FLOAT, False, "Annual $ the account could buy of our portfolio.",
               ("potential", "account potential", "market potential", "opportunity")),
        Column("zip", STR, False, "US ZIP code (text, leading zeros kept).",
               ("zip", "zip code", "zipcode", "postal code", "postcode", "billing zip/postal code",
                "billing zip", "shipping zip")),
        Column("latitude", FLOAT, False, "Latitude; derived from ZIP when absent.", ("latitude", "lat")),
        Column("longitude", FLOAT, False, "Longitude; derived from ZIP when absent.",
               ("longitude", "lon", "lng", "long")),
        Column("city", STR, False, "City.", ("city", "billing city")),
        Column("state", STR, False, "State.", ("state", "billing state/province", "billing state", "st")),
    ), key="account_id", synonyms=("accounts", "customers", "hospitals", "facilities", "account list",
                                   "companies")),
    Table("sales", "One row per order or invoice line.", (
        Column("date", DATE, True, "Order or invoice date.",
               ("date", "order date", "invoice date", "sale date", "transaction date", "ship date")),
        Column("rep_id", STR, True, "The credited rep.", _REP),
        Column("account_id", STR, False, "The buying account.", _ACCOUNT),
        Column("product", STR, True, "Product sold.", _PRODUCT),
        Column("revenue", FLOAT, True, "Revenue in $; negative for returns and credits.",
               ("revenue", "amount", "sales", "net sales", "value", "net revenue", "total", "sales amount")),
        Column("units", FLOAT, False, "Units sold.", ("units", "quantity", "qty", "volume")),
    ), synonyms=("sales", "orders", "invoices", "transactions", "revenue", "order lines", "sales lines")),
    Table("quotas", "Targets per rep and period.", (
        Column("rep_id", STR, True, "Rep the quota belongs to.", _REP),
        Column("period", STR, True, "YYYY-MM, YYYY-Qn or YYYY.", ("period", "month", "quarter", "year")),
        Column("quota", FLOAT, True, "Quota in $ (> 0), spread evenly over the months of its period.",
               ("quota", "target", "goal", "plan", "quota amount")),
        Column("product", STR, False, "Product the quota is for; blank = all products.", _PRODUCT),
    ), synonyms=("quotas", "quota", "targets", "goals", "plan", "sales plan")),
    Table("activities", "Calls, meetings, presentations, workshops, demos, case support.", (
        Column("date", DATE, True, "Date of the activity.",
               ("date", "call date", "activity date", "meeting date", "visit date", "date of call",
                "call datetime", "start date")),
        Column("rep_id", STR, True, "Rep who did it.", _REP + ("created by", "assigned")),
        Column("activity_type", STR, True, "meeting, presentation, workshop, demo, case_support, phone, "
               "email or other.", ("activity type", "call type", "type", "activity", "interaction type",
                                   "channel", "task type", "event type", "subtype")),
        Column("account_id", STR, False, "Account visited.", _ACCOUNT),
        Column("planned", BOOL, False, "Was it in the call plan before the week began?",
               ("planned", "in call plan", "call plan", "scheduled")),
        Column("contact_role", STR, False, "user (clinician), buyer (purchasing) or admin (C-suite).",
               ("contact role", "contact type", "attendee role", "attendee type", "attendee", "role")),
        Column("segment", STR, False, "Clinical area discussed.", ("segment", "specialty", "therapy area")),
        Column("product", STR, False, "Product discussed.", _PRODUCT + ("detailed product",)),
    ), synonyms=("activities", "activity", "calls", "call log", "meetings", "visits", "interactions",
                 "call report", "events", "tasks")),
    Table("follow_ups", "Commitments to get back to a customer by a date.", (
        Column("rep_id", STR, True, "Rep who committed.", _REP),
        Column("due_date", DATE, True, "Date promised.", ("due date", "due", "deadline", "target date")),
        Column("completed_date", DATE, False, "Date done; blank = still open.",
               ("completed date", "completed", "done date", "closed date", "completion date")),
        Column("account_id", STR, False, "Account it concerns.", _ACCOUNT),
    ), synonyms=("follow ups", "follow-ups", "followups", "follow up", "commitments", "tasks due")),
    Table("opportunities", "The pipeline.", (
        Column("opportunity_id", STR, True, "Unique opportunity id.",
               ("opportunity id", "opportunity", "deal id", "record id", "id", "opportunity name", "deal name",
                "deal", "opportunity number")),
        Column("rep_id", STR, True, "Owner of the opportunity.", _REP),
        Column("created_date", DATE, True, "Date created (or engaged).",
               ("created date", "create date", "engage date", "created", "open date", "createddate",
                "created on", "date created")),
        Column("stage", STR, True, "CRM stage (free text).", ("stage", "deal stage", "stagename",
                                                             "stage name", "opportunity stage", "status",
                                                             "pipeline stage", "sales stage")),
        Column("status", STR, False, "won / lost / open; derived from stage when absent.",
               ("status", "outcome", "won/lost")),
        Column("close_date", DATE, False, "Close date (actual or expected).",
               ("close date", "closedate", "closed date", "expected close date", "closed on",
                "date closed")),
        Column("amount", FLOAT, False, "Deal value in $.", ("amount", "close value", "deal value",
                                                            "value", "expected revenue", "deal amount")),
        Column("account_id", STR, False, "Account.", _ACCOUNT),
        Column("product", STR, False, "Product.", _PRODUCT),
    ), key="opportunity_id", synonyms=("opportunities", "pipeline", "deals", "opps", "sales pipeline",
                                       "opportunity")),
    Table("training", "Knowledge checks and courses.", (
        Column("rep_id", STR, True, "Rep who took it.", _REP),
        Column("date", DATE, True, "Date taken.", ("date", "completion date", "test date", "quiz date")),
        Column("topic", STR, True, "Product, clinical data, competitor, process ...",
               ("topic", "course", "module", "subject", "quiz", "test")),
        Column("score", FLOAT, True, "Score 0-100.", ("score", "result", "percent", "score %", "grade")),
    ), synonyms=("training", "knowledge checks", "quizzes", "knowledge", "courses", "certifications",
                 "lms")),
    Table("assessments", "Competency ratings (1-5).", (
        Column("rep_id", STR, True, "Rep rated.", _REP),
        Column("date", DATE, True, "Date of the assessment.", ("date", "assessment date", "review date")),
        Column("competency", STR, True, "e.g. Product knowledge, Discovery, Objection handling.",
               ("competency", "skill", "capability", "dimension")),
        Column("rating", FLOAT, True, "Rating 1-5.", ("rating", "score", "level")),
        Column("assessor", STR, False, "manager (default), self, peer or customer.",
               ("assessor", "rater", "rated by", "source", "assessor type")),
    ), synonyms=("assessments", "competencies", "competency ratings", "ratings", "skills",
                 "coaching", "evaluations", "reviews")),
    Table("expected_levels", "What each role should reach per competency.", (
        Column("role", STR, True, "Role.", ("role", "job title", "title")),
        Column("competency", STR, True, "Competency.", ("competency", "skill")),
        Column("expected_rating", FLOAT, True, "Expected rating 1-5 (default 3 when the table is absent).",
               ("expected rating", "expected", "expected level", "target rating", "target level")),
    ), synonyms=("expected levels", "expected", "role expectations", "competency model",
                 "expectations", "levels")),
    Table("incentives", "What reps were paid.", (
        Column("rep_id", STR, True, "Rep paid.", _REP),
        Column("period", STR, True, "YYYY-MM, YYYY-Qn or YYYY.", ("period", "month", "quarter", "pay period")),
        Column("payout", FLOAT, True, "Amount paid in $ (>= 0).",
               ("payout", "paid", "amount", "incentive", "commission paid", "earnings")),
        Column("component", STR, False, "commission, bonus, SPIF, or the product it pays on.",
               ("component", "type", "plan component", "incentive type")),
    ), synonyms=("incentives", "payouts", "commissions", "compensation", "comp", "incentive pay")),
    Table("products", "Optional reference list of products (not in data.md's twelve tables): product "
          "names here are the canonical spelling other tables are matched to.", (
        Column("product", STR, True, "Product name, spelled as it should appear.",
               ("product", "product name", "item", "sku", "name", "product family")),
        Column("list_price", FLOAT, False, "List price per unit in $.",
               ("list price", "sales price", "price", "unit price", "msrp", "retail price")),
        Column("series", STR, False, "Product line or series the product belongs to.",
               ("series", "product line", "line", "family", "category", "brand")),
    ), key="product", synonyms=("products", "product list", "product catalog", "catalog",
                                "price list", "portfolio")),
)}

TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

ACTIVITY_TYPES = ("meeting", "presentation", "workshop", "demo", "case_support", "phone", "email", "other")
FACE_TO_FACE = ("meeting", "presentation", "workshop", "demo", "case_support")
CONTACT_ROLES = ("user", "buyer", "admin")
OPPORTUNITY_STATUSES = ("won", "lost", "open")
DEFAULT_ROLE = "Sales Rep"
DEFAULT_EXPECTED_RATING = 3.0
UNASSIGNED = "Unassigned"

_PANDAS_DTYPES = {STR: "str", DATE: "datetime64[ns]", FLOAT: "float64", INT: "Int64", BOOL: "boolean"}


def empty_table(name: str) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes of table `name`."""
    spec = TABLES[name]
    return pd.DataFrame({c.name: pd.Series(dtype=_PANDAS_DTYPES[c.dtype]) for c in spec.columns})


def pandas_dtype(column: Column) -> str:
    """The pandas dtype a canonical column is stored with."""
    return _PANDAS_DTYPES[column.dtype]
