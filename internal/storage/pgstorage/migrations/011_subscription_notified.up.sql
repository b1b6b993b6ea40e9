-- Webhook delivery (issue 11): how far each receiver has been told of its
-- list's changes. A subscription hears of the changes after it was made,
-- so existing ones start at their list's last change.
ALTER TABLE "Subscriptions" ADD COLUMN "NotifiedThrough" bigint NOT NULL DEFAULT 0;
UPDATE "Subscriptions" s SET "NotifiedThrough" = l."LastChange" FROM "Lists" l WHERE l."Id" = s."ListId";
