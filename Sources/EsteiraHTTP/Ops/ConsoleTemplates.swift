import Mustache

/// The operators' console's templates, in Portuguese. One layout and one generic page: every
/// page is a list of sections (figures, a form, a table, a pager, a paragraph) that the routes
/// build (`ConsolePage`), so the pages look and behave alike. No script at all: the overview
/// refreshes itself with a meta refresh, and bulk choices are checkboxes tied to their form by
/// the `form` attribute. Keys of each level have their own prefix, for Mustache looks a missing
/// key up in the levels around it.
enum ConsoleTemplates {
    static let library = WebTemplates.compiled(["ops_layout": layout, "ops_page": page])

    /// The console's CSS, inline and allowed by its hash (`ContentSecurityPolicy`).
    static let style = #"""
      :root { --ink: #1d2733; --muted: #5b6776; --line: #d9dee5; --accent: #24507a; --bad: #a61b1b; --good: #0b6e4f; --bg: #f4f6f8; }
      * { box-sizing: border-box; }
      body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
      header { background: #1d2733; color: #fff; padding: .5rem 1rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
      header a { color: #dbe6f2; text-decoration: none; }
      header a.here { color: #fff; font-weight: 700; border-bottom: 2px solid #fff; }
      header nav { display: flex; gap: .8rem; flex-wrap: wrap; flex: 1; }
      header form { margin: 0; }
      header button.link { color: #dbe6f2; }
      main { max-width: 84rem; margin: 0 auto; padding: 1rem; }
      h1 { font-size: 1.35rem; margin: .3rem 0 .8rem; }
      h2 { font-size: 1.1rem; margin: 1.2rem 0 .5rem; }
      a { color: var(--accent); }
      .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin-bottom: 1rem; }
      .error { border-color: var(--bad); color: var(--bad); background: #fff5f5; }
      .ok { border-color: var(--good); color: var(--good); background: #f3fbf7; }
      .secret { font-family: ui-monospace, monospace; font-size: 1.05rem; user-select: all; }
      form.inline { display: inline; margin: 0; }
      .fields { display: flex; gap: .4rem 1rem; flex-wrap: wrap; align-items: flex-end; }
      .fields > div { min-width: 10rem; }
      label { display: block; font-weight: 600; font-size: .88rem; margin: .2rem 0; }
      input[type=text], input[type=password], input[type=date], input[type=number], select, textarea {
        width: 100%; padding: .4rem; font: inherit; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
      textarea { min-width: 28rem; min-height: 6rem; font-family: ui-monospace, monospace; }
      button { padding: .4rem .9rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0; border-radius: 6px; cursor: pointer; }
      button.danger { background: var(--bad); }
      button.small { padding: .15rem .55rem; font-size: .85rem; }
      button.link { background: none; padding: 0; font-weight: 400; text-decoration: underline; }
      .scroll { overflow-x: auto; }
      table { border-collapse: collapse; width: 100%; background: #fff; font-size: .9rem; }
      th, td { border-bottom: 1px solid var(--line); padding: .3rem .45rem; text-align: left; vertical-align: top; }
      th { background: #e9edf1; white-space: nowrap; }
      td.num { text-align: right; font-variant-numeric: tabular-nums; }
      .muted { color: var(--muted); font-size: .88rem; }
      .counts { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .5rem; margin-bottom: .6rem; }
      .counts > div { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .45rem .7rem; }
      .counts b { display: block; font-size: 1.35rem; }
      .counts a { text-decoration: none; }
      .pager { display: flex; gap: 1rem; align-items: center; margin: .5rem 0; }
    """#

    static let layout = #"""
    <!DOCTYPE html>
    <html lang="pt-BR">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    {{#refresh}}<meta http-equiv="refresh" content="{{refresh}}">{{/refresh}}
    <title>{{title}} · Operação · Esteira</title>
    <style>\#(style)</style>
    </head>
    <body>
    <header>
      <strong>Esteira · Operação</strong>
      {{#operator}}
      <nav>{{#nav}}<a href="{{n_href}}"{{#n_here}} class="here"{{/n_here}}>{{n_label}}</a>{{/nav}}</nav>
      <span>{{o_name}} ({{o_role}})</span>
      <form method="post" action="/ops/sair?csrf={{csrf}}"><button class="link" type="submit" id="sair">Sair</button></form>
      {{/operator}}
    </header>
    <main>
    <h1>{{title}}</h1>
    {{{body}}}
    </main>
    </body>
    </html>
    """#

    static let page = #"""
    {{#notice}}<div class="card ok" id="aviso">{{notice}}</div>{{/notice}}
    {{#secret}}<div class="card ok" id="chave-nova"><p>{{s_label}}</p><p class="secret" id="chave">{{s_value}}</p>
      <p class="muted">Ela não será mostrada de novo: copie-a agora e entregue-a por um canal seguro.</p></div>{{/secret}}
    {{#error}}<div class="card error" id="erro">{{error}}</div>{{/error}}
    {{#sections}}
    {{#heading}}<h2>{{heading}}</h2>{{/heading}}
    {{#paragraph}}<p class="muted">{{paragraph}}</p>{{/paragraph}}
    {{#figures}}<div class="counts">{{#g_items}}<div>{{g_label}}<b>{{#g_href}}<a href="{{g_href}}" id="{{g_id}}">{{g_value}}</a>{{/g_href}}{{^g_href}}<span id="{{g_id}}">{{g_value}}</span>{{/g_href}}</b></div>{{/g_items}}</div>{{/figures}}
    {{#form}}
    <form class="card" method="{{f_method}}" action="{{f_action}}" id="{{f_id}}">
      <div class="fields">
      {{#f_fields}}
        <div>
          <label for="{{f_id}}-{{fl_name}}">{{fl_label}}</label>
          {{#fl_options}}<select id="{{f_id}}-{{fl_name}}" name="{{fl_name}}">{{#fl_choices}}<option value="{{o_value}}"{{#o_selected}} selected{{/o_selected}}>{{o_label}}</option>{{/fl_choices}}</select>{{/fl_options}}
          {{#fl_textarea}}<textarea id="{{f_id}}-{{fl_name}}" name="{{fl_name}}">{{fl_value}}</textarea>{{/fl_textarea}}
          {{#fl_input}}<input type="{{fl_input}}" id="{{f_id}}-{{fl_name}}" name="{{fl_name}}" value="{{fl_value}}"{{#fl_required}} required{{/fl_required}}>{{/fl_input}}
        </div>
      {{/f_fields}}
        <div><button type="submit" id="{{f_id}}-enviar"{{#f_danger}} class="danger"{{/f_danger}}>{{f_submit}}</button></div>
      </div>
    </form>
    {{/form}}
    {{#table}}
    {{#t_empty}}<div class="card muted" id="{{t_id}}-vazio">{{t_empty}}</div>{{/t_empty}}
    {{^t_empty}}
    <div class="scroll"><table id="{{t_id}}">
      <thead><tr>{{#t_columns}}<th>{{.}}</th>{{/t_columns}}</tr></thead>
      <tbody>{{#t_rows}}<tr>{{#r_cells}}<td{{#c_num}} class="num"{{/c_num}}>{{#c_check}}<input type="checkbox" form="{{c_form}}" name="{{c_check}}" value="{{c_value}}" aria-label="selecionar">{{/c_check}}{{#c_href}}<a href="{{c_href}}">{{c_text}}</a>{{/c_href}}{{^c_href}}{{c_text}}{{/c_href}}{{#c_posts}}<form class="inline" method="post" action="{{p_action}}"><button type="submit" class="small{{#p_danger}} danger{{/p_danger}}" id="{{p_id}}">{{p_label}}</button></form> {{/c_posts}}</td>{{/r_cells}}</tr>{{/t_rows}}</tbody>
    </table></div>
    {{/t_empty}}
    {{/table}}
    {{#pager}}<div class="pager">{{#pg_previous}}<a href="{{pg_previous}}" id="anterior">← anteriores</a>{{/pg_previous}}<span class="muted">{{pg_text}}</span>{{#pg_next}}<a href="{{pg_next}}" id="proxima">seguintes →</a>{{/pg_next}}</div>{{/pager}}
    {{#links}}<p>{{#l_items}}<a href="{{l_href}}" id="{{l_id}}">{{l_label}}</a> {{/l_items}}</p>{{/links}}
    {{/sections}}
    """#
}
