"""Helpers every platform parser shares: strict shape validation with errors that never echo a
payload value, text cleaned of what no UTF-8 store can hold, and names safe to log."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from hilft.core.errors import MalformedPayload

ShapeT = TypeVar("ShapeT", bound=BaseModel)


class StrictShape(BaseModel):
    """Base of the platforms' payload shapes: types exactly as documented, unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


def numeric_id(value: Any) -> Any:
    """An id sent as a JSON number (older Meta captures) is accepted as its digits."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**30:
        return str(value)
    return value


def validate_shape(model: type[ShapeT], raw: Any, where: str, platform: str) -> ShapeT:
    """Validate against a shape; the error names locations and types, never payload values."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
        place = ".".join([where, *(str(part) for part in first["loc"])] if where else map(str, first["loc"]))
        raise MalformedPayload(f"malformed {platform} payload at {place or 'top level'}: {first['type']}") from None


def clean_text(text: str | None) -> str:
    """Drop lone surrogates (a JSON ``\\ud83d`` without its pair) so the text encodes as UTF-8."""
    if not text:
        return ""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def clean_optional(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


def loggable_name(value: str) -> str:
    """An event-type or field name safe to log: payload-chosen, so bounded and of a plain alphabet."""
    return re.sub(r"[^A-Za-z0-9_.-]", "?", value[:64]) or "?"
