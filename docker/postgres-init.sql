-- One database per service: no service reads another's tables.
CREATE DATABASE store;
CREATE DATABASE billing;
CREATE DATABASE advisor;
