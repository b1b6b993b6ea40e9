-- A Text field's MaxLength (SharePoint's, 1 to 255). 0 on fields stored
-- before it existed means 255.
ALTER TABLE "Fields" ADD COLUMN "MaxLength" integer NOT NULL DEFAULT 0;
