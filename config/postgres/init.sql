-- One PostgreSQL server, one database per service.
CREATE DATABASE airflow;
CREATE DATABASE mlflow;
