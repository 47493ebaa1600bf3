import ArgumentParser
import Hummingbird
import PostgresNIO
@main struct Esteira: ParsableCommand {}
