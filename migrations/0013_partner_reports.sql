-- Partner reads (issue 16, second part). Additive only.

-- A publisher's deliveries, newest first, across all its endpoints (publisher keys list them
-- without naming an endpoint): the publisher whose conversion the notification is for, written
-- with the delivery (the fan-out only sends to that publisher's endpoints), so the list is one
-- range of an index and a page reads page-size rows, however many endpoints and deliveries.
ALTER TABLE deliveries ADD COLUMN publisher_id INTEGER;
UPDATE deliveries SET publisher_id = (SELECT publisher_id FROM endpoints WHERE endpoints.id = deliveries.endpoint_id);
CREATE INDEX deliveries_publisher_time ON deliveries (publisher_id, created_at, id) WHERE publisher_id IS NOT NULL;

-- Reports by sub ID read a range of conversions_publisher_time (publisher, created_at) and group
-- it: no further index is needed for them.
