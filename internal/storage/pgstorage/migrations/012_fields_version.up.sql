-- A stamp of each list's field set, so that a server may keep the fields it
-- decoded and be told by the list's row whether they still hold. Every
-- change to a list's fields gives it a new value from one sequence: values
-- never repeat, not even those of a rolled-back change, so a stamp names
-- one committed field set for good.
CREATE SEQUENCE "FieldsVersions";
ALTER TABLE "Lists" ADD COLUMN "FieldsVersion" bigint NOT NULL DEFAULT nextval('"FieldsVersions"');

CREATE FUNCTION "FieldsChanged"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE "Lists" SET "FieldsVersion" = nextval('"FieldsVersions"')
		WHERE "Id" = CASE WHEN TG_OP = 'DELETE' THEN OLD."ListId" ELSE NEW."ListId" END;
	IF TG_OP = 'UPDATE' AND OLD."ListId" <> NEW."ListId" THEN
		UPDATE "Lists" SET "FieldsVersion" = nextval('"FieldsVersions"') WHERE "Id" = OLD."ListId";
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER "TR_Fields_Version" AFTER INSERT OR UPDATE OR DELETE ON "Fields"
	FOR EACH ROW EXECUTE FUNCTION "FieldsChanged"();
