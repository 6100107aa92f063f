"""The field types of the book of business and of the HTTP API, one `Annotated` type per kind.

What the loader accepts the API accepts too, and the other way round: an address loaded as a
customer's contact is an address the API takes as that quote's contact or recipient. Each type
checks with pydantic-core schemas rather than Python callbacks (e-mail syntax aside), so that a
book of 100,000 subscriptions is read in about a second, and each refusal says in a sentence
what the field accepts.

No text may hold the NUL character: PostgreSQL's text cannot store it, and a refusal that names
the field beats a driver error half-way through a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from babel.numbers import list_currencies
from email_validator import EmailNotValidError, validate_email
from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


def _explained(schema: CoreSchema, kind: str, message: str) -> CoreSchema:
    return core_schema.custom_error_schema(schema, kind, custom_error_message=message)


_WITHOUT_NUL = _explained(
    core_schema.str_schema(pattern=r"^[^\x00]*$"),
    "text_nul",
    "must not contain the NUL character (\\x00)",
)


@dataclass(frozen=True, slots=True)
class TextField:
    """Text of `min_length` to `max_length` characters without NUL, matching `pattern` if any.

    `refusal` is the sentence a text that does not match `pattern` is refused with.
    """

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    refusal: str = "not in the expected form"

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        steps: list[CoreSchema] = [
            core_schema.str_schema(min_length=self.min_length, max_length=self.max_length),
            _WITHOUT_NUL,
        ]
        if self.pattern is not None:
            form = core_schema.str_schema(pattern=self.pattern)
            steps.append(_explained(form, "text_form", self.refusal))
        return core_schema.chain_schema(steps)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        described = handler(schema)
        if self.pattern is not None:
            described["pattern"] = self.pattern
        return described


_DECIMAL = r"^-?\d{1,20}(\.\d{1,12})?$"


@dataclass(frozen=True, slots=True)
class DecimalText:
    """A number written as a decimal string within bounds, never a JSON number."""

    gt: int | None = None
    ge: int | None = None
    lt: int | None = None
    le: int | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        # json.loads turns 0.1 into a float that is already wrong; only text keeps every digit.
        number = core_schema.str_schema(pattern=_DECIMAL)
        gt, ge, lt, le = (
            None if b is None else Decimal(b) for b in (self.gt, self.ge, self.lt, self.le)
        )
        bounded = core_schema.decimal_schema(strict=False, gt=gt, ge=ge, lt=lt, le=le)
        return core_schema.chain_schema(
            [
                _explained(
                    core_schema.str_schema(strict=True),
                    "amount_type",
                    'an amount is a decimal string such as "1234.50", not a JSON number',
                ),
                _explained(
                    number, "amount_format", 'an amount is a decimal string such as "1234.50"'
                ),
                bounded,
            ]
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "pattern": _DECIMAL, "examples": ["1234.50"]}


class _IsoDateText:
    """A date written as ISO text, and nothing else (no timestamps, no times)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        text = core_schema.str_schema(pattern=r"^\d{4}-\d{2}-\d{2}$", strict=True)
        return core_schema.chain_schema(
            [
                _explained(text, "date_format", "a date is ISO text YYYY-MM-DD"),
                _explained(
                    core_schema.date_schema(strict=False),
                    "date_value",
                    "no such day in the calendar",
                ),
            ]
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date"}


# Babel's (CLDR's) codes: those of ISO 4217 in use and those withdrawn since (HRK, BGN...), for
# a book lists subscriptions bought before their country changed currency. CLDR also knows a
# few market codes, such as CNH for the offshore yuan.
_CURRENCIES = sorted(list_currencies())


class _KnownToBabel:
    """A currency code that Babel knows, once its form is checked."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        known = core_schema.literal_schema(_CURRENCIES)
        unknown = "not a currency of ISO 4217"
        return core_schema.chain_schema(
            [handler(source), _explained(known, "currency_unknown", unknown)]
        )


def _email_address(text: str) -> str:
    try:
        # test_environment: the one option that accepts the special-use `.test` domain without
        # changing the library's global list (`.example` and example.com pass anyway); like
        # check_deliverability=False, it never looks the domain up in the DNS.
        address = validate_email(text, check_deliverability=False, test_environment=True)
    except EmailNotValidError as refusal:
        raise PydanticCustomError(
            "email_format", "not an e-mail address: {reason}", {"reason": str(refusal)}
        ) from None
    if "." not in address.domain:
        # test_environment also lets the bare domain `test` through, which no mail reaches.
        raise PydanticCustomError(
            "email_format", "not an e-mail address: the part after the @-sign has no period"
        )
    # One person is one address whatever its case: the users' unique index relies on it.
    return address.normalized.lower()


class _EmailText:
    """An e-mail address, checked for syntax only, written lower-case."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.chain_schema(
            [
                core_schema.str_schema(max_length=254),
                _WITHOUT_NUL,
                core_schema.no_info_plain_validator_function(_email_address),
            ]
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "email", "maxLength": 254}


_NOT_BLANK = r"\S"

Email = Annotated[str, _EmailText()]
"""An e-mail address: its syntax is checked (never its deliverability), special-use domains such
as `.test`, `.example` and example.com are accepted, and it is given back lower-case."""

Name = Annotated[str, TextField(max_length=200, pattern=_NOT_BLANK, refusal="must not be blank")]
"""The name of a person, a company, an offering or a promotion: up to 200 characters, not blank."""

PersonName = Annotated[
    str,
    TextField(
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$",
        refusal="must not be blank or hold line breaks or other control characters",
    ),
]
"""A person's name as a mail header shows it: one line."""

AddressLine = Annotated[
    str, TextField(max_length=200, pattern=_NOT_BLANK, refusal="must not be blank")
]
"""A line of a postal address, or its city: up to 200 characters, not blank."""

PostalCode = Annotated[str, TextField(min_length=1, max_length=20)]
"""A postal code as the country writes it ("75002", "SW1A 2AA"): 1 to 20 characters."""

Csn = Annotated[str, TextField(min_length=1, max_length=20)]
"""A customer or partner number (CSN), always text ("5200000001"): 1 to 20 characters."""

Code = Annotated[str, TextField(min_length=1, max_length=40)]
"""A code of the catalogue or an id: offering, promotion, subscription; 1 to 40 characters."""

TaxId = Annotated[str, TextField(max_length=40, pattern=_NOT_BLANK, refusal="must not be blank")]
"""A tax or VAT number as the tax office writes it ("FR19812345676"): up to 40 characters."""

Password = Annotated[str, TextField(min_length=1, max_length=1024)]
"""A password as typed: 1 to 1024 characters (what signing in accepts)."""

CountryCode = Annotated[
    str,
    TextField(
        pattern=r"^[A-Z]{2}$",
        refusal='a country is two upper-case letters (ISO 3166), such as "FR"',
    ),
]
"""A country: two upper-case letters of ISO 3166-1 ("FR")."""

CurrencyCode = Annotated[
    str,
    TextField(
        pattern=r"^[A-Z]{3}$",
        refusal='a currency is three upper-case letters (ISO 4217), such as "EUR"',
    ),
    _KnownToBabel(),
]
"""A currency of ISO 4217 ("EUR") that Babel knows: withdrawn codes (HRK) are accepted, codes
of no currency ("XYZ") refused."""

LanguageCode = Annotated[
    str,
    TextField(
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$",
        refusal='a language is a code such as "fr" or "en"',
    ),
]
"""A language: an ISO 639 code, with a region or script if need be ("fr", "pt-BR")."""

IsoDate = Annotated[date, _IsoDateText()]
"""A day written as ISO text, YYYY-MM-DD, and nothing else (no number, no time)."""

Amount = Annotated[Decimal, DecimalText(ge=0)]
"""An amount of money, zero or more, as a decimal string ("1234.50")."""

PositiveAmount = Annotated[Decimal, DecimalText(gt=0)]
"""An amount of money above zero, as a decimal string ("40.00")."""

Percent = Annotated[Decimal, DecimalText(gt=0, le=100)]
"""A percentage above 0 and at most 100, as a decimal string ("12.5")."""

TaxRate = Annotated[Decimal, DecimalText(ge=0, lt=1)]
"""A tax rate as a fraction from 0 up to, not including, 1, as a decimal string ("0.20")."""
