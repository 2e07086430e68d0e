-- 03: how the Ergast CSVs are read, where they are, and where ML artifacts go.
-- \N is NULL (Ergast's marker), the header line is skipped, values may be quoted with ".
-- ESCAPE_UNENCLOSED_FIELD = NONE: the files use no backslash escapes, and \N must stay literal.
CREATE FILE FORMAT IF NOT EXISTS RAW.FORMULA1.CSV_FORMAT
  TYPE = CSV
  FIELD_DELIMITER = ','
  SKIP_HEADER = 1
  FIELD_OPTIONALLY_ENCLOSED_BY = '"'
  NULL_IF = ('\\N')
  EMPTY_FIELD_AS_NULL = TRUE
  ESCAPE_UNENCLOSED_FIELD = NONE;

-- The same for races.csv, whose last rows (next season's calendar) stop after the first columns.
-- COPY INTO takes FORMAT_NAME or TYPE + options, not both, hence a second named format.
CREATE FILE FORMAT IF NOT EXISTS RAW.FORMULA1.CSV_FORMAT_RAGGED
  TYPE = CSV
  FIELD_DELIMITER = ','
  SKIP_HEADER = 1
  FIELD_OPTIONALLY_ENCLOSED_BY = '"'
  NULL_IF = ('\\N')
  EMPTY_FIELD_AS_NULL = TRUE
  ESCAPE_UNENCLOSED_FIELD = NONE
  ERROR_ON_COLUMN_COUNT_MISMATCH = FALSE;

-- The guide's public bucket (read anonymously); `ingest` copies <table>.csv from here.
CREATE STAGE IF NOT EXISTS RAW.FORMULA1.FORMULA1_STAGE
  URL = 's3://formula1-dbt-cloud-python-demo/formula1-kaggle-data/'
  FILE_FORMAT = (FORMAT_NAME = 'RAW.FORMULA1.CSV_FORMAT');

-- Internal stage for the fitted preprocessing pipeline and other ML artifacts.
CREATE STAGE IF NOT EXISTS FORMULA1.ML.ML_STAGE
  COMMENT = 'f1_kedro: ML artifacts (fitted preprocessing pipeline)';
