"""The canonical omnichannel data model: every table and column the analyses read.

One :class:`Table` per canonical table. Columns carry their type, meaning, whether they are required, checks
(range, allowed values, uniqueness, foreign key) and the checklist item they serve.
``docs/data-model.md`` is generated from this module (``python -m omnimodel.data.schema``), so the two never
drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omnimodel.exceptions import ConfigError

#: the demo company's channels; a user's data names its own
CHANNELS = ("webshop", "app", "stores", "marketplace", "call_centre", "field_sales")
ONLINE_CHANNELS = ("webshop", "app", "marketplace")
#: what kind a channel is (the ``channels`` table): the online/offline analyses compare online with the rest
CHANNEL_KINDS = ("online", "offline", "assisted")
TOUCHPOINT_KINDS = (
    "visit",
    "email",
    "app_session",
    "store_visit",
    "call",
    "social_post",
    "event",
    "newsletter_click",
)
OUTCOMES = ("won", "lost", "open")

#: Columns holding personal data. They never reach aggregated outputs or reports unless a caller asks.
PERSONAL_COLUMNS = frozenset(
    {
        "name",
        "email",
        "phone",
        "birth_date",
        "delivery_address",
        "billing_address",
        "postal_code",
        "city",
        "tracking_number",
    }
)
#: Columns of words people wrote (names, addresses, reasons): text that looks like a spreadsheet formula is kept
#: there (and neutralised in every file omnimodel writes); in ids and categories it is an error.
FREE_TEXT_COLUMNS = frozenset(
    {"name", "email", "delivery_address", "billing_address", "city", "brand", "reason"}
)

#: the category of products an export lists without one (said as such, never a finding)
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True)
class Column:
    """One column of a canonical table: type, whether required, personal, and what it means."""

    name: str
    dtype: str  # one of: string, int, float, bool, date, timestamp
    meaning: str
    required: bool = False
    nullable: bool = True
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    references: str | None = None  # "table.column"
    serves: str = ""  # checklist item
    personal_data: bool | None = None  # None: personal when its name is one of PERSONAL_COLUMNS

    @property
    def personal(self) -> bool:
        """Whether the column holds personal data (left out of reports unless allowed). A product's name is
        not; a customer's is."""
        return self.name in PERSONAL_COLUMNS if self.personal_data is None else self.personal_data

    @property
    def free_text(self) -> bool:
        """Whether people write the values in their own words (see :data:`FREE_TEXT_COLUMNS`)."""
        return self.name in FREE_TEXT_COLUMNS


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, key and what it serves."""

    name: str
    meaning: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    serves: str = ""
    #: pairs (earlier, later) of date columns where later must not precede earlier
    date_order: tuple[tuple[str, str], ...] = field(default=())

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise ConfigError(
            f"the data model has no column {name!r} here", fix=f"use one of {', '.join(self.column_names)}"
        )

    @property
    def required_columns(self) -> list[str]:
        """Names of the columns a source must provide."""
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        """Names of all columns, in data-model order."""
        return [c.name for c in self.columns]


C = Column
PROFILE = "1 customer profile"
FUNNEL = "2 funnel steering"
STRATEGY = "3 strategy"

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "customers",
            "One row per customer (consumer or business account), with personal and account data.",
            ("customer_id",),
            (
                C(
                    "customer_id",
                    "string",
                    "Customer number",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=PROFILE,
                ),
                C("name", "string", "Full name or company name (personal)", serves=PROFILE),
                C("email", "string", "E-mail address (personal)", serves=PROFILE),
                C("phone", "string", "Phone number (personal)", serves=PROFILE),
                C("birth_date", "date", "Birth date (personal; consumers only)", serves=PROFILE),
                C(
                    "gender",
                    "string",
                    "Gender as recorded (f, m, d or empty)",
                    allowed=("f", "m", "d"),
                    serves=PROFILE,
                ),
                C("delivery_address", "string", "Default delivery address (personal)", serves=PROFILE),
                C("billing_address", "string", "Billing address (personal)", serves=PROFILE),
                C("postal_code", "string", "Postal code (personal)", serves=PROFILE),
                C("city", "string", "City (personal)", serves=PROFILE),
                C(
                    "country",
                    "string",
                    "ISO 3166 alpha-2 country code",
                    required=True,
                    nullable=False,
                    serves=STRATEGY,
                ),
                C("region", "string", "Sales region the country belongs to", serves=STRATEGY),
                C("segment", "string", "Customer segment", serves=STRATEGY),
                C("is_business", "bool", "True for B2B accounts", serves=STRATEGY),
                C("acquisition_date", "date", "Date of first contact or first order", serves=PROFILE),
                C(
                    "acquisition_channel",
                    "string",
                    "Channel that acquired the customer",
                    serves=PROFILE,
                ),
                C("preferred_shipping_method", "string", "Preferred shipping method", serves=PROFILE),
                C("payment_method", "string", "Default payment method", serves=PROFILE),
                C(
                    "account_balance",
                    "float",
                    "Open balance on the customer account (negative = credit)",
                    serves=PROFILE,
                ),
                C("newsletter_opt_in", "bool", "Subscribed to the newsletter", serves=PROFILE),
                C(
                    "newsletter_frequency",
                    "string",
                    "Newsletter setting (weekly, monthly, none)",
                    serves=PROFILE,
                ),
                C("loyalty_member", "bool", "Member of the loyalty programme", serves=PROFILE),
                C("loyalty_points", "int", "Loyalty points balance", min=0, serves=PROFILE),
                C("clothing_size", "string", "Individual size (optional)", serves=PROFILE),
                C("shoe_size", "float", "Individual shoe size (optional)", min=15, max=55, serves=PROFILE),
            ),
            serves=PROFILE,
        ),
        Table(
            "products",
            "Assortment: one row per product (SKU).",
            ("product_id",),
            (
                C(
                    "product_id",
                    "string",
                    "Product number",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=STRATEGY,
                ),
                C("name", "string", "Product name", serves=STRATEGY, personal_data=False),
                C("category", "string", "Product category", required=True, nullable=False, serves=STRATEGY),
                C("brand", "string", "Brand", serves=PROFILE),
                C("price", "float", "List price", min=0, serves=STRATEGY),
                C("cost", "float", "Unit cost", min=0, serves=STRATEGY),
                C("channels", "string", "Channels where offered, separated by '|'", serves=STRATEGY),
                C("is_b2b", "bool", "Sold mainly to business accounts", serves=STRATEGY),
            ),
            serves=STRATEGY,
        ),
        Table(
            "wishlist",
            "Wish-list entries.",
            ("customer_id", "product_id"),
            (
                C(
                    "customer_id",
                    "string",
                    "Customer",
                    required=True,
                    nullable=False,
                    references="customers.customer_id",
                    serves=PROFILE,
                ),
                C(
                    "product_id",
                    "string",
                    "Product wished for",
                    required=True,
                    nullable=False,
                    references="products.product_id",
                    serves=PROFILE,
                ),
                C("added_at", "date", "When it was added", serves=PROFILE),
            ),
            serves=PROFILE,
        ),
        Table(
            "channels",
            "Optional: the channels the data names and what kind each is (for the online/offline analyses).",
            ("channel",),
            (
                C(
                    "channel",
                    "string",
                    "Channel, as the other tables name it",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=STRATEGY,
                ),
                C(
                    "kind",
                    "string",
                    "online, offline (a store) or assisted (call centre, field sales)",
                    required=True,
                    nullable=False,
                    allowed=CHANNEL_KINDS,
                    serves=STRATEGY,
                ),
            ),
            serves=STRATEGY,
        ),
        Table(
            "orders",
            "One row per order, whatever the channel.",
            ("order_id",),
            (
                C(
                    "order_id",
                    "string",
                    "Order number",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=PROFILE,
                ),
                C(
                    "customer_id",
                    "string",
                    "Buyer (empty for anonymous store sales)",
                    references="customers.customer_id",
                    serves=PROFILE,
                ),
                C(
                    "order_date",
                    "timestamp",
                    "When the order was placed",
                    required=True,
                    nullable=False,
                    serves=PROFILE,
                ),
                C(
                    "channel",
                    "string",
                    "Sales channel, in your own words (declare its kind in `channels`)",
                    required=True,
                    nullable=False,
                    references="channels.channel",
                    serves=PROFILE,
                ),
                C(
                    "country",
                    "string",
                    "Country of delivery or store",
                    required=True,
                    nullable=False,
                    serves=STRATEGY,
                ),
                C("payment_method", "string", "Payment method used", serves=PROFILE),
                C("shipping_method", "string", "Shipping method used", serves=PROFILE),
            ),
            serves=PROFILE,
        ),
        Table(
            "order_lines",
            "One row per product in an order. Revenue = quantity * unit_price * (1 - discount).",
            ("order_id", "line_no"),
            (
                C(
                    "order_id",
                    "string",
                    "Order",
                    required=True,
                    nullable=False,
                    references="orders.order_id",
                    serves=PROFILE,
                ),
                C(
                    "line_no",
                    "int",
                    "Line number within the order",
                    required=True,
                    nullable=False,
                    min=1,
                    serves=PROFILE,
                ),
                C(
                    "product_id",
                    "string",
                    "Product",
                    required=True,
                    nullable=False,
                    references="products.product_id",
                    serves=PROFILE,
                ),
                C(
                    "quantity",
                    "int",
                    "Units ordered",
                    required=True,
                    nullable=False,
                    min=1,
                    max=1e6,
                    serves=PROFILE,
                ),
                C(
                    "unit_price",
                    "float",
                    "Price per unit before discount",
                    required=True,
                    nullable=False,
                    min=0,
                    max=1e7,
                    serves=PROFILE,
                ),
                C(
                    "discount",
                    "float",
                    "Discount as a share of the price (0-1)",
                    min=0,
                    max=1,
                    serves=PROFILE,
                ),
                C("unit_cost", "float", "Cost per unit (for margin)", min=0, serves=STRATEGY),
            ),
            serves=PROFILE,
        ),
        Table(
            "returns",
            "Returned units.",
            ("return_id",),
            (
                C(
                    "return_id",
                    "string",
                    "Return number",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=PROFILE,
                ),
                C(
                    "order_id",
                    "string",
                    "Order returned from",
                    required=True,
                    nullable=False,
                    references="orders.order_id",
                    serves=PROFILE,
                ),
                C("line_no", "int", "Order line returned", serves=PROFILE),
                C("quantity", "int", "Units returned", required=True, nullable=False, min=1, serves=PROFILE),
                C("return_date", "date", "When the return arrived", serves=PROFILE),
                C("reason", "string", "Return reason", serves=PROFILE),
            ),
            serves=PROFILE,
        ),
        Table(
            "complaints",
            "Customer complaints.",
            ("complaint_id",),
            (
                C(
                    "complaint_id",
                    "string",
                    "Complaint number",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=PROFILE,
                ),
                C(
                    "customer_id",
                    "string",
                    "Customer",
                    required=True,
                    nullable=False,
                    references="customers.customer_id",
                    serves=PROFILE,
                ),
                C("order_id", "string", "Order concerned", references="orders.order_id", serves=PROFILE),
                C("complaint_date", "date", "When it was raised", required=True, serves=PROFILE),
                C("channel", "string", "Channel it came through", serves=PROFILE),
                C("topic", "string", "Topic (delivery, quality, billing, service)", serves=PROFILE),
                C("resolved", "bool", "Resolved", serves=PROFILE),
            ),
            serves=PROFILE,
        ),
        Table(
            "shipments",
            "Parcels and their tracking status.",
            ("shipment_id",),
            (
                C(
                    "shipment_id",
                    "string",
                    "Shipment number",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=PROFILE,
                ),
                C(
                    "order_id",
                    "string",
                    "Order shipped",
                    required=True,
                    nullable=False,
                    references="orders.order_id",
                    serves=PROFILE,
                ),
                C("carrier", "string", "Carrier", serves=PROFILE),
                C(
                    "tracking_number",
                    "string",
                    "Tracking number (personal: traceable to an address)",
                    serves=PROFILE,
                ),
                C(
                    "status",
                    "string",
                    "Tracking status",
                    allowed=("label_created", "in_transit", "delivered", "returned_to_sender", "lost"),
                    serves=PROFILE,
                ),
                C("shipped_date", "date", "Handed to the carrier", serves=PROFILE),
                C("delivered_date", "date", "Delivered", serves=PROFILE),
            ),
            serves=PROFILE,
            date_order=(("shipped_date", "delivered_date"),),
        ),
        Table(
            "invoices",
            "Invoices (documents).",
            ("invoice_id",),
            (
                C(
                    "invoice_id",
                    "string",
                    "Invoice number",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=PROFILE,
                ),
                C(
                    "customer_id",
                    "string",
                    "Customer billed",
                    required=True,
                    nullable=False,
                    references="customers.customer_id",
                    serves=PROFILE,
                ),
                C("order_id", "string", "Order billed", references="orders.order_id", serves=PROFILE),
                C("invoice_date", "date", "Issued", required=True, nullable=False, serves=PROFILE),
                C("due_date", "date", "Due", serves=PROFILE),
                C("amount", "float", "Amount billed", required=True, nullable=False, serves=PROFILE),
                C("paid_date", "date", "Paid (empty while open)", serves=PROFILE),
            ),
            serves=PROFILE,
            date_order=(("invoice_date", "due_date"), ("invoice_date", "paid_date")),
        ),
        Table(
            "dunning_notices",
            "Payment reminders (documents).",
            ("notice_id",),
            (
                C(
                    "notice_id",
                    "string",
                    "Notice number",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=PROFILE,
                ),
                C(
                    "invoice_id",
                    "string",
                    "Invoice reminded",
                    required=True,
                    nullable=False,
                    references="invoices.invoice_id",
                    serves=PROFILE,
                ),
                C(
                    "customer_id",
                    "string",
                    "Customer",
                    required=True,
                    nullable=False,
                    references="customers.customer_id",
                    serves=PROFILE,
                ),
                C(
                    "level",
                    "int",
                    "Dunning level (1 = friendly reminder)",
                    required=True,
                    min=1,
                    max=5,
                    serves=PROFILE,
                ),
                C("notice_date", "date", "Sent", required=True, serves=PROFILE),
            ),
            serves=PROFILE,
        ),
        Table(
            "touchpoints",
            "Contacts between customer and company in any channel: media use, channel hopping, movement data.",
            ("customer_id", "touched_at", "channel", "kind"),
            (
                C(
                    "customer_id",
                    "string",
                    "Customer",
                    required=True,
                    nullable=False,
                    references="customers.customer_id",
                    serves=PROFILE,
                ),
                C("touched_at", "timestamp", "When", required=True, nullable=False, serves=PROFILE),
                C(
                    "channel",
                    "string",
                    "Channel",
                    required=True,
                    nullable=False,
                    serves=PROFILE,
                ),
                C(
                    "kind",
                    "string",
                    "Kind of contact",
                    required=True,
                    nullable=False,
                    allowed=TOUCHPOINT_KINDS,
                    serves=PROFILE,
                ),
                C("country", "string", "Where it happened (movement data)", serves=PROFILE),
            ),
            serves=PROFILE,
        ),
        Table(
            "opportunities",
            "B2B and lead pipeline: one row per opportunity, with its current state.",
            ("opportunity_id",),
            (
                C(
                    "opportunity_id",
                    "string",
                    "Opportunity id",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=FUNNEL,
                ),
                C("account_id", "string", "Account (a customer_id where known)", serves=FUNNEL),
                C("created_date", "date", "Created", required=True, nullable=False, serves=FUNNEL),
                C("amount", "float", "Deal value", min=0, serves=FUNNEL),
                C("source_channel", "string", "Channel the lead came from", serves=FUNNEL),
                C("region", "string", "Sales region", serves=FUNNEL),
                C("country", "string", "Country", serves=FUNNEL),
                C("segment", "string", "Customer segment", serves=FUNNEL),
                C("product", "string", "Product or product group", serves=FUNNEL),
                C("owner", "string", "Sales owner", serves=FUNNEL),
                C(
                    "stage",
                    "string",
                    "Current stage (see the funnel definition)",
                    required=True,
                    nullable=False,
                    serves=FUNNEL,
                ),
                C("expected_close_date", "date", "Expected close date", serves=FUNNEL),
                C("closed_date", "date", "Closed (empty while open)", serves=FUNNEL),
                C(
                    "outcome",
                    "string",
                    "won, lost or open",
                    required=True,
                    nullable=False,
                    allowed=OUTCOMES,
                    serves=FUNNEL,
                ),
            ),
            serves=FUNNEL,
            date_order=(("created_date", "closed_date"),),
        ),
        Table(
            "stage_events",
            "Stage history: one row each time an opportunity entered a stage.",
            ("opportunity_id", "stage", "entered_at"),
            (
                C(
                    "opportunity_id",
                    "string",
                    "Opportunity",
                    required=True,
                    nullable=False,
                    references="opportunities.opportunity_id",
                    serves=FUNNEL,
                ),
                C("stage", "string", "Stage entered", required=True, nullable=False, serves=FUNNEL),
                C("entered_at", "date", "When", required=True, nullable=False, serves=FUNNEL),
            ),
            serves=FUNNEL,
        ),
        Table(
            "opportunity_history",
            "Optional: an opportunity's amount and expected close date each time either changed (a CRM's "
            "opportunity field history, as Salesforce's OpportunityHistory exports it), for close dates pushed "
            "again and again, amount cuts and why a forecast changed between two dates.",
            ("opportunity_id", "recorded_at"),
            (
                C(
                    "opportunity_id",
                    "string",
                    "Opportunity",
                    required=True,
                    nullable=False,
                    references="opportunities.opportunity_id",
                    serves=FUNNEL,
                ),
                C(
                    "recorded_at",
                    "date",
                    "When the values were set",
                    required=True,
                    nullable=False,
                    serves=FUNNEL,
                ),
                C("expected_close_date", "date", "Expected close date from then on", serves=FUNNEL),
                C("amount", "float", "Deal value from then on", min=0, serves=FUNNEL),
            ),
            serves=FUNNEL,
        ),
        Table(
            "sales_team",
            "Optional: who reports to whom, one row per deal owner (a CRM's users and roles), for forecasts rolled "
            "up by owner, manager and team.",
            ("owner",),
            (
                C(
                    "owner",
                    "string",
                    "Deal owner, as in opportunities.owner",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=FUNNEL,
                ),
                C("manager", "string", "The owner's manager", serves=FUNNEL),
                C("team", "string", "Team or office the owner belongs to", serves=FUNNEL),
            ),
            serves=FUNNEL,
        ),
        Table(
            "quotas",
            "Optional: each owner's bookings quota per period, as the CRM's forecast settings hold them.",
            ("owner", "period"),
            (
                C(
                    "owner",
                    "string",
                    "Deal owner, as in opportunities.owner",
                    required=True,
                    nullable=False,
                    serves=FUNNEL,
                ),
                C(
                    "period",
                    "string",
                    "Quarter (2026Q1), month (2026-01) or year (2026)",
                    required=True,
                    nullable=False,
                    serves=FUNNEL,
                ),
                C(
                    "quota",
                    "float",
                    "Bookings quota in the period",
                    required=True,
                    nullable=False,
                    min=0,
                    serves=FUNNEL,
                ),
            ),
            serves=FUNNEL,
        ),
        Table(
            "forecast_calls",
            "Optional: the owners' forecast calls per period, as a CRM's forecast submissions hold them.",
            ("owner", "period", "submitted_at"),
            (
                C(
                    "owner",
                    "string",
                    "Deal owner, as in opportunities.owner",
                    required=True,
                    nullable=False,
                    serves=FUNNEL,
                ),
                C(
                    "period",
                    "string",
                    "Quarter (2026Q1), month (2026-01) or year (2026) the call is for",
                    required=True,
                    nullable=False,
                    serves=FUNNEL,
                ),
                C(
                    "submitted_at",
                    "date",
                    "When the call was made",
                    required=True,
                    nullable=False,
                    serves=FUNNEL,
                ),
                C(
                    "commit",
                    "float",
                    "Committed bookings",
                    required=True,
                    nullable=False,
                    min=0,
                    serves=FUNNEL,
                ),
                C("best_case", "float", "Best-case bookings", min=0, serves=FUNNEL),
            ),
            serves=FUNNEL,
        ),
        Table(
            "activities",
            "Optional: sales activities on opportunities (calls, visits, demos, proposals), as a CRM logs them.",
            ("activity_id",),
            (
                C(
                    "activity_id",
                    "string",
                    "Activity id",
                    required=True,
                    nullable=False,
                    unique=True,
                    serves=FUNNEL,
                ),
                C(
                    "opportunity_id",
                    "string",
                    "Opportunity",
                    required=True,
                    nullable=False,
                    references="opportunities.opportunity_id",
                    serves=FUNNEL,
                ),
                C(
                    "type",
                    "string",
                    "Kind of activity, in your own words",
                    required=True,
                    nullable=False,
                    serves=FUNNEL,
                ),
                C("activity_date", "date", "When", required=True, nullable=False, serves=FUNNEL),
                C("owner", "string", "Who did it", serves=FUNNEL),
            ),
            serves=FUNNEL,
        ),
    ]
}


def data_model_markdown() -> str:
    """Render the data model as Markdown (the source of ``docs/data-model.md``)."""
    out = [
        "# The canonical data model",
        "",
        "Generated from `omnimodel/data/schema.py` by `python -m omnimodel.data.schema > docs/data-model.md`;",
        "a test checks the two agree. Required columns must be present in a table that is given; tables",
        "themselves are optional, and each analysis says which tables and columns it skips when missing.",
        "Columns marked *personal* never appear in aggregated outputs or reports unless a parameter allows it.",
        "",
        "Types: `string`, `int`, `float`, `bool`, `date` (ISO `YYYY-MM-DD`), `timestamp` (ISO date and time).",
        "",
    ]
    for t in TABLES.values():
        out += [f"## `{t.name}`", "", t.meaning, "", f"Key: `{', '.join(t.key)}`. Serves: {t.serves}.", ""]
        out += ["| column | type | required | checks | meaning | serves |", "|---|---|---|---|---|---|"]
        for c in t.columns:
            checks = []
            if c.unique:
                checks.append("unique")
            if not c.nullable:
                checks.append("not empty")
            if c.min is not None:
                checks.append(f">= {c.min:g}")
            if c.max is not None:
                checks.append(f"<= {c.max:g}")
            if c.allowed:
                checks.append("one of " + ", ".join(c.allowed))
            if c.references:
                checks.append(f"refers to `{c.references}`")
            meaning = c.meaning + (" *personal*" if c.personal and "(personal" not in c.meaning else "")
            out.append(
                f"| `{c.name}` | {c.dtype} | {'yes' if c.required else ''} | {'; '.join(checks)} "
                f"| {meaning} | {c.serves} |"
            )
        for a, b in t.date_order:
            out.append(f"\n`{b}` must not be before `{a}`.")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(data_model_markdown())
