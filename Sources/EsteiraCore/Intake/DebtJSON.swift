/// A debt written as a JSON object (the body of `POST /v1/debts`, an item of a submission): its
/// keys are the standard field names or any of their aliases (the bankslip seed's `debtId`,
/// `governmentId`, `debtAmount`, `debtDueDate` included), with text values; the amount may also
/// be a JSON number, read from its literal digits as a decimal with a point (`12.345` has three
/// decimals), never through a floating-point or a rounded decimal value. Without I/O: the routes
/// (`SingleDebtJSON`) and the fuzzer (`scripts/fuzz`, target `json`) run it.
public enum DebtJSON {
    /// Why an item is not a debt's shape, with the key concerned.
    public struct ShapeProblem: Error, Equatable, Sendable {
        public var key: String
        public var code: String
        public var message: String
        public var field: DebtField? = nil

        public init(key: String, code: String, message: String, field: DebtField? = nil) {
            self.key = key
            self.code = code
            self.message = message
            self.field = field
        }
    }

    /// The fields of an object: every key must name a field (or an alias), once; only the amount
    /// may be a number; no text may hold a control character (R014: a NUL would make the file a
    /// submission becomes unreadable, and PostgreSQL cannot store one).
    public static func fields(_ members: [JSONValue.Member]) -> Result<[DebtField: String], ShapeProblem> {
        var values: [DebtField: String] = [:]
        for member in members {
            let key = member.key
            guard let field = DebtField.matching(header: key) else {
                return .failure(ShapeProblem(key: key, code: "unknown_field", message: "Campo desconhecido: \(key)."))
            }
            guard values[field] == nil else {
                return .failure(ShapeProblem(key: key, code: "duplicate_field",
                                             message: "O campo \(field.rawValue) veio mais de uma vez (\(key))."))
            }
            switch member.value {
            case .string(let s):
                if let control = ControlCharacters.first(in: s) {
                    return .failure(ShapeProblem(key: key, code: RejectCode.controlCharacter.rawValue,
                                                 message: ControlCharacters.message(field: field, control), field: field))
                }
                values[field] = s
            case .null: values[field] = ""
            case .number where field == .amount:
                let (literal, parsed) = amount(member.value)
                switch parsed {
                case .success(let cents): values[field] = Money.decimalString(cents: cents)
                case .failure(let error):
                    return .failure(ShapeProblem(key: key, code: RejectCode.amountMalformed.rawValue,
                                                 message: Money.refusal(error, text: literal, example: "1234.56"), field: field))
                }
            default:
                return .failure(ShapeProblem(key: key, code: "invalid_json", message: "O campo \(key) deve ser texto (ou número, para o valor)."))
            }
        }
        return .success(values)
    }

    /// An amount sent as JSON, as written and as read: text in any notation of `auto`, a number
    /// from its literal with a point for decimals (`12.345` has three), anything else empty.
    public static func amount(_ value: JSONValue?) -> (text: String, cents: Result<Int64, Money.ParseError>) {
        switch value {
        case .string(let s)?: return (s, Money.parseCents(s[...]))
        case .number(let literal)?: return (literal, Money.parseCents(literal[...], format: .dot))
        default: return ("", .failure(.empty))
        }
    }

}
