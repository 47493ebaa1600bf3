import Logging

/// Opens the database a setting names: `postgres://...` for PostgreSQL, otherwise the SQLite file
/// `esteira.sqlite` in the data folder.
public enum DatabaseOpener {
    public static func open(databaseURL: String?, dataDirectory: String, logger: Logger,
                            postgresBulkWrites: PostgresBulkWrites = .copy,
                            postgresLimits: PostgresLimits = PostgresLimits()) throws -> any SQLDatabase {
        if let url = databaseURL, !url.isEmpty {
            if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
                return try PostgresDatabase(url: url, logger: logger, bulkWrites: postgresBulkWrites,
                                            limits: postgresLimits)
            }
            if url.hasPrefix("sqlite://") {
                return try SQLiteDatabase(path: String(url.dropFirst("sqlite://".count)))
            }
            throw SQLError(code: .connection, message: "DATABASE_URL must start with postgres:// or sqlite://", sql: "")
        }
        return try SQLiteDatabase(path: dataDirectory + "/esteira.sqlite")
    }
}
