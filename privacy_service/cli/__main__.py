"""`python -m privacy_service.cli …`: how the demo starts its outbox loop and the tests their processes."""

from privacy_service.cli import main

main()
