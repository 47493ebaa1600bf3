-- The database roles of an Esteira deployment, with the least each needs (docs/deploy.md):
--
--   owner  owns the schema; `esteira migrate` runs as it, and nothing else does.
--   app    what every `esteira serve` and `esteira worker` connects as: it reads and writes rows,
--          and may neither change the schema nor rewrite the audit.
--
-- Run with psql as a superuser (or a role with CREATEROLE that owns the database), connected to
-- Esteira's database, before the first `esteira migrate` and again after each one (it only
-- grants and revokes, so running it twice changes nothing):
--
--   psql -d esteira -v owner=esteira_owner -v app=esteira_app -f deploy/postgres/roles.sql
--
-- Passwords are not set here: `\password esteira_owner` and `\password esteira_app` in psql.
\set ON_ERROR_STOP on
\if :{?owner}
\else
\set owner esteira_owner
\endif
\if :{?app}
\else
\set app esteira_app
\endif

SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'owner') AS create_owner,
       NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app') AS create_app,
       current_database() AS database \gset
\if :create_owner
CREATE ROLE :"owner" LOGIN;
\endif
\if :create_app
CREATE ROLE :"app" LOGIN;
\endif

-- The database and its schema belong to the owner; nobody else may create anything in them.
ALTER DATABASE :"database" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"owner";
-- TEMPORARY: bulk writes to PostgreSQL go through a temporary table per connection.
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO :"app";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- Rows, in every table the owner creates from now on, and in those it already has.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO :"app";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";

-- The audit of operators' actions is written and read, never changed or removed; nor is the
-- record of which migrations ran.
SELECT to_regclass('public.audit_log') IS NOT NULL AS has_audit,
       to_regclass('public.schema_migrations') IS NOT NULL AS has_migrations \gset
\if :has_audit
REVOKE UPDATE, DELETE ON audit_log FROM :"app";
\endif
\if :has_migrations
REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM :"app";
\endif
