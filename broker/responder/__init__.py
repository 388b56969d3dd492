"""The responders' shared machinery (health, housing, children's social care): the work list of
enquiries a person must answer, answers justified from the agreements, and the port each
agency's records sit behind. Adapters compose it (`broker.responder.app`); they never import
each other.
"""

from broker.responder.answer import (
    ROLE_AUTOMATED,
    ROLE_OFFICER,
    LocateAnswer,
    Outbox,
    ResponseSender,
)
from broker.responder.cipher import ItemBinding, WorkCipher, new_key
from broker.responder.errors import (
    AlreadyClosed,
    AnswerInvalid,
    ResponderError,
    SourceDataInvalid,
    SourceUnavailable,
    WorkItemNotFound,
    WorkItemUndecryptable,
    WrongKind,
)
from broker.responder.guard import CircuitBreaker, Deadline
from broker.responder.model import (
    Closure,
    Finding,
    InboundRef,
    NewWorkItem,
    WorkItemDetail,
    WorkItemSummary,
    WorkKind,
    WorkState,
)
from broker.responder.responder import InboundHandler, Responder
from broker.responder.settings import ResponderSettings
from broker.responder.source import (
    Answered,
    LocateResult,
    LocateSource,
    Referred,
    asks_for_address,
)
from broker.responder.worklist import WorkList

__all__ = [
    "ROLE_AUTOMATED",
    "ROLE_OFFICER",
    "AlreadyClosed",
    "AnswerInvalid",
    "Answered",
    "CircuitBreaker",
    "Closure",
    "Deadline",
    "Finding",
    "InboundHandler",
    "InboundRef",
    "ItemBinding",
    "LocateAnswer",
    "LocateResult",
    "LocateSource",
    "NewWorkItem",
    "Outbox",
    "Referred",
    "Responder",
    "ResponderError",
    "ResponderSettings",
    "ResponseSender",
    "SourceDataInvalid",
    "SourceUnavailable",
    "WorkCipher",
    "WorkItemDetail",
    "WorkItemNotFound",
    "WorkItemSummary",
    "WorkItemUndecryptable",
    "WorkKind",
    "WorkList",
    "WorkState",
    "WrongKind",
    "asks_for_address",
    "new_key",
]
