"""Import every table module so SQLModel.metadata knows the whole schema (Alembic, tests)."""

from privacy_service import (
    audit,  # noqa: F401
    idempotency,  # noqa: F401
    notify,  # noqa: F401
    webhooks,  # noqa: F401
)
from privacy_service.consent import models as consent_models  # noqa: F401
from privacy_service.datamap import models as datamap_models  # noqa: F401
from privacy_service.dsar import models as dsar_models  # noqa: F401
from privacy_service.people import models as people_models  # noqa: F401
from privacy_service.registers import (
    dpia_models,  # noqa: F401
    lia_models,  # noqa: F401
    processing_models,  # noqa: F401
    transfer_models,  # noqa: F401
)
from privacy_service.registers import models as register_models  # noqa: F401
from privacy_service.retention import models as retention_models  # noqa: F401
from privacy_service.ropa import models as ropa_models  # noqa: F401
from privacy_service.security import models as security_models  # noqa: F401
from privacy_service.subjects import models as subject_models  # noqa: F401
