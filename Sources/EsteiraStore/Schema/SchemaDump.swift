/// The schema a database holds now, as SQL: what `docs/schema/sqlite.sql` and
/// `docs/schema/postgres.sql` show, so that a reader need not replay the migrations in their
/// head. Written by `scripts/schema` (`esteira schema`) from a freshly migrated database; a test
/// migrates one and compares.
public enum SchemaDump {
    public static func sql(of db: any SQLDatabase) async throws -> String {
        switch db.dialect {
        case .sqlite: try await sqlite(db)
        case .postgres: try await postgres(db)
        }
    }

    /// SQLite keeps each table's and index's statement as written (after the migrations'
    /// `ALTER TABLE`s): tables first, then indexes, each by name.
    static func sqlite(_ db: any SQLDatabase) async throws -> String {
        let rows = try await db.query("""
            SELECT type, name, sql FROM sqlite_master
            WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
            ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, tbl_name, name
            """)
        return try rows.map { try $0.string("sql") + ";\n" }.joined(separator: "\n")
    }

    /// PostgreSQL keeps no statement: each table is written from the catalog, its columns in
    /// order with their types, defaults and NOT NULL, then its constraints, then its indexes.
    static func postgres(_ db: any SQLDatabase) async throws -> String {
        let tables = try await db.query("""
            SELECT c.oid::bigint AS oid, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.relname
            """)
        var out: [String] = []
        for table in tables {
            let oid = try table.int("oid"), name = try table.string("name")
            let columns = try await db.query("""
                SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull::int AS not_null,
                       pg_get_expr(d.adbin, d.adrelid) AS default_value
                FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE a.attrelid = \(oid) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
                """)
            var lines = try columns.map { c in
                var line = "    \(try c.string("name")) \(try c.string("type"))"
                if let d = try c.optionalString("default_value") { line += " DEFAULT \(d)" }
                if try c.int("not_null") != 0 { line += " NOT NULL" }
                return line
            }
            let constraints = try await db.query("""
                SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
                WHERE conrelid = \(oid) AND contype IN ('p', 'u', 'f', 'c') ORDER BY contype, conname
                """)
            lines += try constraints.map { "    CONSTRAINT \(try $0.string("name")) \(try $0.string("definition"))" }
            var text = "CREATE TABLE \(name) (\n" + lines.joined(separator: ",\n") + "\n);\n"
            let indexes = try await db.query("""
                SELECT indexdef FROM pg_indexes i
                WHERE i.schemaname = current_schema() AND i.tablename = \(name)
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = \(oid) AND k.conname = i.indexname)
                ORDER BY i.indexname
                """)
            for index in indexes {
                text += try index.string("indexdef").replacingOccurrences(of: " ON public.", with: " ON ") + ";\n"
            }
            out.append(text)
        }
        return out.joined(separator: "\n")
    }
}
