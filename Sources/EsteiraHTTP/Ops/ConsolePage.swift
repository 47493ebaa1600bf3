import EsteiraCore
import Foundation

/// One page of the operators' console, built section by section and rendered by the generic
/// template (`ConsoleTemplates.page`). Values are escaped by Mustache; actions' addresses get the
/// form token added here, so that no page can forget it.
struct ConsolePage {
    var title: String
    var sections: [[String: Any]] = []
    var notice: String?
    var error: String?
    /// A key shown once: what it is, and the key.
    var secret: (label: String, value: String)?
    /// Seconds between the page's own refreshes (the overview).
    var refresh: Int?

    init(_ title: String) { self.title = title }

    /// A cell of a table: text, a link, buttons that post, or a checkbox of a bulk form.
    struct Cell {
        var text = ""
        var href: String?
        var posts: [Post] = []
        var check: (form: String, name: String, value: String)?
        var numeric = false

        struct Post {
            var label: String
            var action: String
            var id: String
            var danger = false
        }

        static func text(_ s: String) -> Cell { Cell(text: s) }
        static func number(_ n: Int) -> Cell { Cell(text: ConsolePage.grouped(n), numeric: true) }
        static func link(_ s: String, _ href: String) -> Cell { Cell(text: s, href: href) }
        static func post(_ label: String, _ action: String, id: String, danger: Bool = false) -> Cell {
            Cell(posts: [Post(label: label, action: action, id: id, danger: danger)])
        }
        static func check(form: String, name: String, value: String) -> Cell { Cell(check: (form, name, value)) }
    }

    /// A field of a form.
    struct Field {
        var label: String
        var name: String
        var value = ""
        /// `text`, `password`, `date`, `number`, `hidden`; nil for a select or a text area.
        var input: String? = "text"
        var choices: [(value: String, label: String)]? = nil
        var textarea = false
        var required = false

        static func text(_ label: String, _ name: String, _ value: String = "", required: Bool = false, type: String = "text") -> Field {
            Field(label: label, name: name, value: value, input: type, required: required)
        }
        static func choice(_ label: String, _ name: String, _ choices: [(String, String)], selected: String) -> Field {
            Field(label: label, name: name, value: selected, input: nil, choices: choices.map { (value: $0.0, label: $0.1) })
        }
        static func area(_ label: String, _ name: String) -> Field { Field(label: label, name: name, input: nil, textarea: true) }
    }

    mutating func heading(_ text: String) { sections.append(["heading": text]) }
    mutating func paragraph(_ text: String) { sections.append(["paragraph": text]) }

    mutating func figures(_ items: [(label: String, value: String, href: String?, id: String)]) {
        sections.append(["figures": ["g_items": items.map { i -> [String: Any] in
            var out: [String: Any] = ["g_label": i.label, "g_value": i.value, "g_id": i.id]
            if let href = i.href { out["g_href"] = href }
            return out
        }]])
    }

    mutating func links(_ items: [(label: String, href: String, id: String)]) {
        sections.append(["links": ["l_items": items.map { ["l_label": $0.label, "l_href": $0.href, "l_id": $0.id] }]])
    }

    /// A form; `method` get filters a list, post acts (and carries the token).
    mutating func form(id: String, action: String, method: String = "post", submit: String, danger: Bool = false, _ fields: [Field]) {
        let fieldValues: [[String: Any]] = fields.map { f in
            var out: [String: Any] = ["fl_label": f.label, "fl_name": f.name, "fl_value": f.value]
            if f.required { out["fl_required"] = true }
            if let choices = f.choices {
                out["fl_options"] = ["fl_choices": choices.map { c -> [String: Any] in
                    var o: [String: Any] = ["o_value": c.value, "o_label": c.label]
                    if c.value == f.value { o["o_selected"] = true }
                    return o
                }]
            } else if f.textarea {
                out["fl_textarea"] = true
            } else if let input = f.input {
                out["fl_input"] = input
            }
            return out
        }
        var form: [String: Any] = ["f_method": method, "f_action": method == "post" ? Self.withToken(action) : action, "f_id": id,
                                   "f_submit": submit, "f_fields": fieldValues]
        if danger { form["f_danger"] = true }
        sections.append(["form": form])
    }

    mutating func table(id: String, _ columns: [String], _ rows: [[Cell]], empty: String = "Nada a mostrar.") {
        var table: [String: Any] = ["t_id": id, "t_columns": columns]
        if rows.isEmpty { table["t_empty"] = empty }
        table["t_rows"] = rows.map { cells -> [String: Any] in
            ["r_cells": cells.map { c -> [String: Any] in
                var out: [String: Any] = ["c_text": c.text]
                if let href = c.href { out["c_href"] = href }
                if c.numeric { out["c_num"] = true }
                if let check = c.check { out["c_check"] = check.name; out["c_form"] = check.form; out["c_value"] = check.value }
                if !c.posts.isEmpty {
                    out["c_posts"] = c.posts.map { p -> [String: Any] in
                        var o: [String: Any] = ["p_label": p.label, "p_action": Self.withToken(p.action), "p_id": p.id]
                        if p.danger { o["p_danger"] = true }
                        return o
                    }
                }
                return out
            }]
        }
        sections.append(["table": table])
    }

    /// Links to the pages before and after; `address(p)` is page p's address.
    mutating func pager(page: Int, perPage: Int, total: Int, _ address: (Int) -> String) {
        let pages = max(1, (total + perPage - 1) / perPage)
        var pager: [String: Any] = ["pg_text": "página \(page) de \(pages) · \(Self.grouped(total)) no total"]
        if page > 1 { pager["pg_previous"] = address(page - 1) }
        if page < pages { pager["pg_next"] = address(page + 1) }
        sections.append(["pager": pager])
    }

    static func withToken(_ action: String) -> String {
        action + (action.contains("?") ? "&" : "?") + "csrf=" + WebCSRFMiddleware.token
    }

    /// 1234567 → "1.234.567", as a Brazilian reads a count.
    static func grouped(_ n: Int) -> String { DigitGroups.grouped(n, separator: ".") }

    var values: [String: Any] {
        var out: [String: Any] = ["sections": sections]
        if let notice { out["notice"] = notice }
        if let error { out["error"] = error }
        if let secret { out["secret"] = ["s_label": secret.label, "s_value": secret.value] }
        return out
    }
}
