-- 02: one warehouse per workload, so loading, dbt and reporting are billed and sized apart.
-- Extra-small, suspended after 60 s idle, resumed by the next query, created suspended.
CREATE WAREHOUSE IF NOT EXISTS LOADING
  WITH WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
  COMMENT = 'f1_kedro: COPY INTO the RAW tables';
CREATE WAREHOUSE IF NOT EXISTS TRANSFORMING
  WITH WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
  COMMENT = 'f1_kedro: dbt models, training and scoring';
CREATE WAREHOUSE IF NOT EXISTS REPORTING
  WITH WAREHOUSE_SIZE = 'XSMALL' AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE
  COMMENT = 'f1_kedro: dashboards and ad-hoc queries on marts and predictions';
