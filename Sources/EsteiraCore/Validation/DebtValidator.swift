/// The outcome of validating one row.
public enum DebtValidation: Sendable, Equatable {
    /// An inclusion (operation I, or no operation): a new debt.
    case valid(Debt)
    /// A correction (operation A): the debt as it should now read, validated as a whole debt.
    case correction(Debt)
    /// A withdrawal (operation B): only the external id and the reason are read.
    case withdrawal(externalID: String, reason: WithdrawalReason)
    case invalid([RowIssue])
}

/// The rules a row must pass to become a debt. Pure: the day the batch was received is given.
public struct DebtValidator: Sendable {
    /// The day (in America/Sao_Paulo) the batch was received; a due date after it is rejected.
    public let receivedOn: Day
    public let dateFormat: DateFormat
    public let decimalFormat: DecimalFormat

    public init(receivedOn: Day, dateFormat: DateFormat = .auto, decimalFormat: DecimalFormat = .auto) {
        self.receivedOn = receivedOn
        self.dateFormat = dateFormat
        self.decimalFormat = decimalFormat
    }

    /// Every problem of the row, in field order, or the debt it describes.
    public func validate(_ row: ParsedRow) -> DebtValidation {
        var issues: [RowIssue] = []
        func add(_ field: DebtField?, _ code: RejectCode, _ detail: String) {
            issues.append(RowIssue(line: row.line, field: field, code: code, message: detail))
        }
        switch row.structure {
        case .ok: break
        case let .columnCount(expected, found):
            add(nil, .columnCount, "A linha tem \(found) colunas; o cabeçalho tem \(expected).")
            return .invalid(issues)
        case .unclosedQuote:
            add(nil, .unclosedQuote, "A linha abre aspas que não são fechadas até o fim do arquivo.")
            return .invalid(issues)
        }

        guard let operation = DebtOperation(cell: row.operation) else {
            add(.operation, .operationUnknown,
                "A operação \(row.operation.prefix(20)) é desconhecida; use I (inclusão), A (alteração) ou B (baixa).")
            return .invalid(issues)
        }
        if operation == .withdrawal { return withdrawal(row) }

        for field in DebtField.allCases where field != .withdrawalReason {
            let value = row.value(of: field)
            if row.undecodable.contains(field) {
                add(field, .invalidEncoding, "O campo \(field.portugueseName) tem bytes que não são UTF-8 (\(value.prefix(60))); "
                    + "salve o arquivo como UTF-8 ou Windows-1252 e envie a linha de novo.")
            } else if field.isRequired && value.isEmpty {
                add(field, .requiredMissing, "O campo \(field.portugueseName) é obrigatório e está vazio.")
            } else if value.utf8.count > field.maxLength && value.count > field.maxLength {
                add(field, .tooLong, "O campo \(field.portugueseName) tem \(value.count) caracteres; o máximo é \(field.maxLength).")
            } else if let control = ControlCharacters.first(in: value) {
                add(field, .controlCharacter, ControlCharacters.message(field: field, control))
            }
        }
        let longOrMissing = Set(issues.compactMap(\.field))

        var document: TaxID?
        if !longOrMissing.contains(.document) {
            switch TaxID.validate(normalized: row.document) {
            case .success(let id): document = id
            case .failure(.malformed):
                add(.document, .documentMalformed, "O documento não é um CPF (11 dígitos) nem um CNPJ (14 caracteres).")
            case .failure(.checkDigits):
                add(.document, .documentCheckDigits, "O dígito verificador do CPF/CNPJ não confere.")
            }
        }

        var cents: Int64?
        if !longOrMissing.contains(.amount) {
            switch Money.parseCents(row.amount[...], format: decimalFormat) {
            case .success(let value) where value > 0: cents = value
            case .success:
                add(.amount, .amountNotPositive, "O valor \(row.amount) deve ser maior que zero.")
            case .failure(let error):
                add(.amount, error == .ambiguous ? .amountAmbiguous : .amountMalformed,
                    Money.refusal(error, text: row.amount, example: decimalFormat.example))
            }
        }

        var dueDate: Day?
        if !longOrMissing.contains(.dueDate) {
            if let day = dateFormat.parse(row.dueDate[...]) {
                if day > receivedOn {
                    add(.dueDate, .dateAfterReceipt,
                        "O vencimento \(row.dueDate) é posterior ao recebimento do lote (\(receivedOn.brazilian)).")
                } else {
                    dueDate = day
                }
            } else {
                add(.dueDate, .dateInvalid, "A data \(row.dueDate) não é uma data válida (use \(dateFormat.example)).")
            }
        }

        if !row.email.isEmpty && !longOrMissing.contains(.email) && !EmailAddress.isWellFormed(row.email) {
            add(.email, .emailInvalid, "O e-mail \(row.email) não é válido.")
        }

        guard issues.isEmpty, let document, let cents, let dueDate else { return .invalid(issues) }
        let debt = Debt(
            externalID: row.externalID, name: row.name, document: document, amountCents: cents, dueDate: dueDate,
            email: row.email.isEmpty ? nil : EmailAddress.lowercased(row.email),
            phone: row.phone.isEmpty ? nil : row.phone,
            description: row.description.isEmpty ? nil : row.description)
        return operation == .correction ? .correction(debt) : .valid(debt)
    }

    /// A withdrawal's row: its external id and a known reason. The debt's other fields are not
    /// read: a creditor's system often sends them as they were, or not at all.
    func withdrawal(_ row: ParsedRow) -> DebtValidation {
        var issues: [RowIssue] = []
        func add(_ field: DebtField, _ code: RejectCode, _ detail: String) {
            issues.append(RowIssue(line: row.line, field: field, code: code, message: detail))
        }
        for field in [DebtField.externalID, .withdrawalReason] {
            let value = row.value(of: field)
            if row.undecodable.contains(field) {
                add(field, .invalidEncoding, "O campo \(field.portugueseName) tem bytes que não são UTF-8 (\(value.prefix(60))); "
                    + "salve o arquivo como UTF-8 ou Windows-1252 e envie a linha de novo.")
            } else if value.isEmpty {
                if field == .externalID {
                    add(field, .requiredMissing, "O campo \(field.portugueseName) é obrigatório e está vazio.")
                } else {
                    add(field, .withdrawalReasonInvalid,
                        "A baixa (operação B) precisa do motivo_baixa: um de \(WithdrawalReason.listed).")
                }
            } else if value.utf8.count > field.maxLength && value.count > field.maxLength {
                add(field, .tooLong, "O campo \(field.portugueseName) tem \(value.count) caracteres; o máximo é \(field.maxLength).")
            } else if let control = ControlCharacters.first(in: value) {
                add(field, .controlCharacter, ControlCharacters.message(field: field, control))
            }
        }
        guard issues.isEmpty else { return .invalid(issues) }
        guard let reason = WithdrawalReason(cell: row.withdrawalReason) else {
            add(.withdrawalReason, .withdrawalReasonInvalid,
                "O motivo da baixa \(row.withdrawalReason.prefix(40)) é desconhecido; use um de \(WithdrawalReason.listed).")
            return .invalid(issues)
        }
        return .withdrawal(externalID: row.externalID, reason: reason)
    }
}

/// E-mail addresses as people type them: `local@domain.tld`, with the local part of RFC 5322's
/// dot-atom and a domain of letter/digit/hyphen labels. Quoted local parts and IP literals are refused:
/// no debtor has one, and a typo is far likelier.
public enum EmailAddress {
    /// RFC 5322 `atext`, as a table by byte.
    static let atext: [Bool] = {
        var t = [Bool](repeating: false, count: 256)
        for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~".utf8 { t[Int(c)] = true }
        return t
    }()

    /// The address in lower case; the same String, not a new one, when it has no capital letter
    /// and no byte outside ASCII (nearly every address, once per row).
    public static func lowercased(_ address: String) -> String {
        address.utf8.contains { ($0 >= 65 && $0 <= 90) || $0 >= 0x80 } ? address.lowercased() : address
    }

    /// One pass over the bytes, no allocation: this runs for every row that has an e-mail.
    public static func isWellFormed(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isWellFormed(bytes: $0) }
    }

    /// `isWellFormed` of UTF-8 bytes read in place.
    public static func isWellFormed(bytes b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let at = b.firstIndex(of: UInt8(ascii: "@")) else { return false }
        let localCount = at, domainCount = b.count - at - 1
        guard (1...64).contains(localCount), (3...253).contains(domainCount) else { return false }
        // Local part: dot-separated atoms of atext, no empty atom.
        var previousWasDot = true
        for i in 0..<at {
            let c = b[i]
            if c == UInt8(ascii: ".") {
                if previousWasDot { return false }
                previousWasDot = true
            } else {
                guard atext[Int(c)] else { return false }
                previousWasDot = false
            }
        }
        if previousWasDot { return false }
        // Domain: at least two labels of letters, digits and inner hyphens; the last not all digits.
        var labels = 0, labelLength = 0, labelAllDigits = true, lastChar: UInt8 = 0, labelFirst: UInt8 = 0
        for i in (at + 1)...b.count {
            let c: UInt8 = i < b.count ? b[i] : UInt8(ascii: ".")
            if c == UInt8(ascii: ".") {
                guard (1...63).contains(labelLength), labelFirst != UInt8(ascii: "-"), lastChar != UInt8(ascii: "-")
                else { return false }
                labels += 1
                if i == b.count && (labelAllDigits || labelLength < 2) { return false }
                labelLength = 0
                labelAllDigits = true
                continue
            }
            let isDigit = c >= 48 && c <= 57
            let isLetter = (c >= 97 && c <= 122) || (c >= 65 && c <= 90)
            guard isDigit || isLetter || c == UInt8(ascii: "-") else { return false }
            if labelLength == 0 { labelFirst = c }
            labelLength += 1
            labelAllDigits = labelAllDigits && isDigit
            lastChar = c
        }
        return labels >= 2
    }
}
