-- A client id is an idempotency key of the partner that wrote the record:
-- two partners' phones may pick the same id (the README's example, the
-- demo's), and a retry must never find another partner's record. Records
-- written by Trygg itself (no organisation) share one scope.
DROP INDEX features_client_key;
CREATE UNIQUE INDEX features_client_key
    ON features (kind, organisation_id, client_id) NULLS NOT DISTINCT WHERE client_id IS NOT NULL;
