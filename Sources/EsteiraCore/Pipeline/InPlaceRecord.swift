/// The common record of a UTF-8 CSV file, staged as a debt straight from the file's bytes.
///
/// The general way makes a String of every field (`CSVRecordParser`), trims and normalizes them
/// into a `ParsedRow`, validates that into a `Debt` and writes the debt's Strings to the staging
/// file: reading the fields in place took a third off the transform stage's time on a million
/// rows (docs/benchmarks.md, 2026-11-24). Most records of most files are plain and valid, and for them this reads the
/// fields where they lie and writes them to the staging file as they are. Every other record (and
/// every record it is not sure of) is left to the general way, which also says what is wrong.
public enum InPlaceRecord {
    /// Stages `record` (one record, its line break removed) as a valid debt and returns true when
    /// it is the common case; otherwise writes nothing and returns false.
    ///
    /// The common case: no quote and no byte that may start a control character anywhere, as many fields as the header has, each field no longer
    /// in bytes than its field's maximum in characters, every rule of `DebtValidator` passed, and
    /// an e-mail, when there is one, already in lower-case ASCII. For such a record the staged
    /// debt is byte for byte the one the general way stages (a test compares the two): the fields
    /// trimmed as `String.trimmedSpaces` trims, the document normalized by `TaxID.normalize`, the
    /// amount and the due date read by the validator's own parsers.
    public static func stageDebt(_ record: UnsafeBufferPointer<UInt8>, line: Int, delimiter: UInt8,
                                 positions: StandardLayout.Positions, validator: DebtValidator,
                                 into staging: inout StagingCodec.Encoder) -> Bool {
        let columns = positions.columnCount
        guard columns > 0 else { return false }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: columns) { starts -> Bool in
            // Where each field starts; it ends one byte before the next starts (its delimiter).
            starts[0] = 0
            var found = 1
            for i in 0..<record.count {
                let c = record[i]
                if c == delimiter {
                    guard found < columns else { return false }
                    starts[found] = i + 1
                    found += 1
                } else if c == UInt8(ascii: "\"") || ControlCharacters.mayStartForbidden(c) {
                    return false
                }
            }
            guard found == columns else { return false }

            func field(_ f: DebtField) -> UnsafeBufferPointer<UInt8> {
                let k = positions.column[f.ordinal]
                guard k >= 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
                var start = starts[k], end = k + 1 < columns ? starts[k + 1] - 1 : record.count
                while start < end, record[start].isTrimmedSpace { start += 1 }
                while end > start, record[end - 1].isTrimmedSpace { end -= 1 }
                return UnsafeBufferPointer(rebasing: record[start..<end])
            }
            func fits(_ value: UnsafeBufferPointer<UInt8>, _ f: DebtField) -> Bool {
                (!f.isRequired || !value.isEmpty) && value.count <= f.maxLength
            }
            // An inclusion, a correction (the same fields, the same rules) or a withdrawal whose
            // reason is written as it is listed is staged here; an operation written out as a
            // word, or a reason written another way, takes the general way.
            let operation = field(.operation)
            let letter = operation.count == 1 ? operation[0] | 0x20 : 0
            if letter == UInt8(ascii: "b") {
                let externalID = field(.externalID)
                guard fits(externalID, .externalID), !externalID.isEmpty,
                      let reason = WithdrawalReason(rawValue: String(decoding: field(.withdrawalReason), as: UTF8.self)) else { return false }
                staging.withdrawal(line: line, raw: record, externalID: String(decoding: externalID, as: UTF8.self), reason: reason)
                return true
            }
            guard operation.isEmpty || letter == UInt8(ascii: "i") || letter == UInt8(ascii: "a") else { return false }
            let externalID = field(.externalID), name = field(.name), amount = field(.amount)
            let dueDate = field(.dueDate), email = field(.email), phone = field(.phone)
            let description = field(.description)
            guard fits(externalID, .externalID), fits(name, .name), fits(amount, .amount), fits(dueDate, .dueDate),
                  fits(email, .email), fits(phone, .phone), fits(description, .description) else { return false }

            let normalized = TaxID.normalize(bytes: field(.document))
            guard !normalized.isEmpty, normalized.utf8.count <= DebtField.document.maxLength,
                  case .success(let document) = TaxID.validate(normalized: normalized) else { return false }
            // The amount and the date are short: their Strings live inline, nothing is allocated.
            guard case .success(let cents) = Money.parseCents(String(decoding: amount, as: UTF8.self)[...],
                                                               format: validator.decimalFormat),
                  cents > 0,
                  let day = validator.dateFormat.parse(String(decoding: dueDate, as: UTF8.self)[...]),
                  day <= validator.receivedOn else { return false }
            if !email.isEmpty {
                guard EmailAddress.isWellFormed(bytes: email),
                      !email.contains(where: { ($0 >= 65 && $0 <= 90) || $0 >= 0x80 }) else { return false }
            }

            var documentText = document.value
            documentText.withUTF8 { documentBytes in
                staging.debt(line: line, raw: record, kind: document.kind, externalID: externalID, name: name,
                             document: documentBytes, amountCents: cents, dueDate: day,
                             email: email.isEmpty ? nil : email, phone: phone.isEmpty ? nil : phone,
                             description: description.isEmpty ? nil : description, indexKey: document.indexKey,
                             correction: letter == UInt8(ascii: "a"))
            }
            return true
        }
    }
}
