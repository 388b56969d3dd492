"""The base of every agreement document model."""

from pydantic import BaseModel, ConfigDict


class DocumentModel(BaseModel):
    """Frozen and strict in shape: a misspelt key in a document is an error, never ignored."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        hide_input_in_errors=True,  # errors name the field, never the value
        use_attribute_docstrings=True,
        validate_by_name=True,
        validate_by_alias=True,
    )
