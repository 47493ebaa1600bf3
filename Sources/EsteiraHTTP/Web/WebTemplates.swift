import Mustache

/// The web pages' templates (Mustache; `{{x}}` escapes HTML, `{{{x}}}` does not and is used only
/// for the page body the layout wraps and for drawings Esteira makes itself). Texts are in
/// Portuguese: the client reads them. No build step: the CSS and the one script are here, the CSS
/// inline in the page (allowed by its hash), the script served as a file (`/app/lote.js`).
enum WebTemplates {
    static let all: [String: String] = [
        "layout": layout, "entrar": signIn, "lotes": batches, "enviar": upload, "mapear": mapping, "lote": batch,
    ]

    /// Every template, registered once; a test renders every page.
    static let library = compiled(all)

    /// The templates registered under their names. They are constants of this module, and a
    /// test renders every page, so one that does not compile stops the tests, not a user.
    static func compiled(_ templates: [String: String]) -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in templates {
            try! library.register(text, named: name)
        }
        return library
    }

    /// The pages' CSS, inline in the layout and allowed by its hash in the Content-Security-Policy
    /// (`ContentSecurityPolicy`): no `unsafe-inline`, and nothing to fetch before the page shows.
    static let style = #"""
      :root { --ink: #1d2733; --muted: #5b6776; --line: #d9dee5; --accent: #0b6e4f; --bad: #a61b1b; --bg: #f6f7f9; }
      * { box-sizing: border-box; }
      body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
      header { background: #fff; border-bottom: 1px solid var(--line); padding: .6rem 1rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
      header strong { font-size: 1.1rem; }
      header nav { display: flex; gap: .9rem; flex-wrap: wrap; flex: 1; }
      header form { margin: 0; }
      main { max-width: 70rem; margin: 0 auto; padding: 1rem; }
      h1 { font-size: 1.4rem; margin: .4rem 0 1rem; }
      a { color: var(--accent); }
      .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
      .error { border-color: var(--bad); color: var(--bad); background: #fff5f5; }
      label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
      input[type=text], input[type=password], select { width: 100%; max-width: 28rem; padding: .5rem; font: inherit; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
      button, .button { display: inline-block; padding: .55rem 1.1rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0; border-radius: 6px; cursor: pointer; text-decoration: none; margin-top: .8rem; }
      button.link { background: none; color: var(--accent); padding: 0; margin: 0; font-weight: 400; text-decoration: underline; }
      .scroll { overflow-x: auto; }
      table { border-collapse: collapse; width: 100%; background: #fff; font-size: .92rem; }
      th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; white-space: nowrap; }
      th { background: #eef1f4; }
      td.wrap { white-space: normal; }
      .muted { color: var(--muted); font-size: .9rem; }
      .status { font-weight: 700; }
      .counts { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .6rem; }
      .counts div { background: #eef1f4; border-radius: 6px; padding: .5rem .7rem; }
      .counts b { display: block; font-size: 1.3rem; }
      .fields { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 0 1rem; }
      /* On a phone a list of records becomes a card per record, each cell with its column's name:
         nothing to scroll sideways. */
      @media (max-width: 40rem) {
        table.cards thead { display: none; }
        table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
        table.cards tr { border-bottom: 1px solid var(--line); padding: .4rem 0; }
        table.cards td { border: 0; padding: .1rem .5rem; white-space: normal; overflow-wrap: anywhere; }
        table.cards td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
      }
    """#

    static let layout = #"""
    <!DOCTYPE html>
    <html lang="pt-BR">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}} · Esteira</title>
    <style>\#(style)</style>
    </head>
    <body>
    <header>
      <strong>Esteira</strong>
      {{#client}}
      <nav><a href="/app/lotes">Lotes</a><a href="/app/enviar">Enviar arquivo</a></nav>
      <span class="muted">{{name}}</span>
      <form method="post" action="/app/sair?csrf={{csrf}}"><button class="link" type="submit" id="sair">Sair</button></form>
      {{/client}}
    </header>
    <main>
    {{{body}}}
    </main>
    </body>
    </html>
    """#

    static let signIn = #"""
    <h1>Entrar</h1>
    {{#error}}<div class="card error" id="erro">{{error}}</div>{{/error}}
    <form class="card" method="post" action="/app/entrar?csrf={{csrf}}">
      <label for="chave">Chave de API</label>
      <input type="password" id="chave" name="chave" autocomplete="off" required placeholder="est_…">
      <p class="muted">A chave foi entregue quando a sua empresa foi cadastrada. Ela não fica salva neste navegador: a sessão dura 8 horas.</p>
      <button type="submit" id="entrar">Entrar</button>
    </form>
    """#

    static let batches = #"""
    <h1>Lotes</h1>
    <p><a class="button" href="/app/enviar" id="novo">Enviar arquivo</a></p>
    {{#empty}}<div class="card">Nenhum lote ainda.</div>{{/empty}}
    {{^empty}}
    <div class="scroll"><table id="lotes" class="cards">
      <thead><tr><th>Arquivo</th><th>Recebido em</th><th>Situação</th><th>Linhas</th><th>Registradas</th><th>Alteradas</th><th>Baixadas</th><th>Duplicadas</th><th>Rejeitadas</th></tr></thead>
      <tbody>
      {{#batches}}
      <tr><td><a href="/app/lotes/{{id}}">{{file}}</a></td><td data-label="Recebido em">{{received}}</td><td data-label="Situação">{{status}}</td>
          <td data-label="Linhas">{{received_count}}</td><td data-label="Registradas">{{registered}}</td><td data-label="Alteradas">{{updated}}</td>
          <td data-label="Baixadas">{{withdrawn}}</td><td data-label="Duplicadas">{{duplicates}}</td><td data-label="Rejeitadas">{{rejected}}</td></tr>
      {{/batches}}
      </tbody>
    </table></div>
    {{/empty}}
    """#

    static let upload = #"""
    <h1>Enviar arquivo</h1>
    {{#error}}<div class="card error" id="erro">{{error}}</div>{{/error}}
    <form class="card" method="post" action="/app/enviar?csrf={{csrf}}" enctype="multipart/form-data">
      <label for="arquivo">Arquivo CSV, TXT ou XLSX</label>
      <input type="file" id="arquivo" name="file" accept=".csv,.txt,.xlsx,.xls" required>
      <p class="muted">Depois do envio você verá as primeiras 100 linhas e escolherá qual coluna é cada campo. Limite: {{limit}}.</p>
      <button type="submit" id="enviar">Enviar</button>
    </form>
    """#

    static let mapping = #"""
    <h1>Mapear colunas: {{file}}</h1>
    {{#has_errors}}<div class="card error" id="erro">{{#errors}}<p>{{.}}</p>{{/errors}}</div>{{/has_errors}}
    {{#has_formats}}
    <form class="card" method="get" action="/app/enviar/{{draft}}" id="formatos">
      {{#suggested}}<p id="formato-sugerido">As colunas deste arquivo batem com o formato salvo “{{suggested}}”: o mapeamento abaixo é o dele.</p>{{/suggested}}
      <label for="formato">Usar um formato salvo</label>
      <select id="formato" name="formato">
        {{#formats}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}{{#suggested}} (sugerido){{/suggested}}</option>{{/formats}}
      </select>
      <button type="submit" id="aplicar-formato">Aplicar</button>
    </form>
    {{/has_formats}}
    <form class="card" method="post" action="/app/enviar/{{draft}}?csrf={{csrf}}">
      <p class="muted">Escolha a coluna do arquivo que contém cada campo. Sugerimos pelas palavras do cabeçalho; confira antes de enviar.</p>
      <div class="fields">
      {{#fields}}
        <div>
          <label for="col_{{key}}">{{label}}{{#required}} *{{/required}}</label>
          <select id="col_{{key}}" name="col_{{key}}">
            <option value="">{{#required}}— escolha —{{/required}}{{^required}}— não há —{{/required}}</option>
            {{#options}}<option value="{{index}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/options}}
          </select>
        </div>
      {{/fields}}
      </div>
      <div class="fields">
        <div>
          <label for="date_format">Formato das datas</label>
          <select id="date_format" name="date_format">
            {{#date_formats}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/date_formats}}
          </select>
        </div>
        <div>
          <label for="decimal_format">Formato dos valores</label>
          <select id="decimal_format" name="decimal_format">
            {{#decimal_formats}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/decimal_formats}}
          </select>
        </div>
        <div>
          <label for="preset">Salvar este mapeamento como</label>
          <input type="text" id="preset" name="preset" value="{{preset}}" maxlength="80" required>
          <label><input type="checkbox" name="default" value="1"{{#make_default}} checked{{/make_default}}> Usar como formato padrão (SFTP e API)</label>
        </div>
      </div>
      <button type="submit" id="confirmar">Confirmar e processar</button>
    </form>
    <h2>Primeiras {{row_count}} linhas</h2>
    <div class="scroll"><table id="previa">
      <thead><tr><th>Linha</th>{{#header}}<th>{{.}}</th>{{/header}}</tr></thead>
      <tbody>{{#rows}}<tr><td>{{line}}</td>{{#cells}}<td>{{.}}</td>{{/cells}}</tr>{{/rows}}</tbody>
    </table></div>
    """#

    static let batch = #"""
    <h1>Lote: {{file}}</h1>
    <div class="card">
      <p>Situação: <span class="status" id="situacao" data-final="{{final}}" data-estado="/app/lotes/{{id}}/estado">{{status}}</span></p>
      {{#error}}<p class="card error" id="erro">{{error}}</p>{{/error}}
      {{#preview}}
      <div id="previa-lote">
        <h2>Prévia: o que o arquivo fará</h2>
        <p class="muted">Nada foi registrado ainda. Confira e confirme para registrar.</p>
        <div class="counts">
          <div>Linhas<b id="previa-linhas">{{received}}</b></div>
          <div>Novas<b id="previa-novas">{{new}}</b></div>
          <div>Alteradas<b id="previa-alteradas">{{corrected}}</b></div>
          <div>Baixadas<b id="previa-baixadas">{{withdrawn}}</b></div>
          <div>Sem mudança<b id="previa-iguais">{{unchanged}}</b></div>
          <div title="Já registradas com outro conteúdo">Conflitos<b id="previa-conflitos">{{conflicts}}</b></div>
          <div>Rejeitadas<b id="previa-rejeitadas">{{rejected}}</b></div>
        </div>
        {{#has_rejects}}
        <div class="scroll"><table id="previa-rejeicoes" class="cards">
          <thead><tr><th>Linha</th><th>Campo</th><th>Código</th><th>Motivo</th></tr></thead>
          <tbody>{{#rejects}}<tr><td data-label="Linha">{{line}}</td><td data-label="Campo">{{field}}</td><td data-label="Código">{{code}}</td>
            <td class="wrap" data-label="Motivo">{{message}}</td></tr>{{/rejects}}</tbody>
        </table></div>
        {{/has_rejects}}
        <form method="post" action="/app/lotes/{{id}}/confirmar?csrf={{csrf}}">
          <button type="submit" id="confirmar-registro">Confirmar e registrar</button>
        </form>
      </div>
      {{/preview}}
      {{^preview}}
      <div class="counts">
        <div>Linhas<b id="recebidas">{{received_count}}</b></div>
        <div>Registradas<b id="registradas">{{registered}}</b></div>
        <div title="Dívidas alteradas (operação A)">Alteradas<b id="alteradas">{{updated}}</b></div>
        <div title="Dívidas baixadas (operação B)">Baixadas<b id="baixadas">{{withdrawn}}</b></div>
        <div>Duplicadas<b id="duplicadas">{{duplicates}}</b></div>
        <div>Rejeitadas<b id="rejeitadas">{{rejected}}</b></div>
        <div title="Registradas, mas marcadas pelas regras de risco para revisão">Em revisão<b id="revisao">{{review}}</b></div>
      </div>
      {{/preview}}
      <p class="muted">Recebido em {{received}}{{#format}} · formato “{{format}}”{{/format}} · lote {{id}}</p>
    </div>
    {{#has_rejects}}
    <h2>Linhas rejeitadas</h2>
    <p><a class="button" id="baixar" href="/app/lotes/{{id}}/rejeitados.csv">Baixar relatório de rejeitadas (CSV)</a></p>
    <div class="scroll"><table id="rejeitadas-tabela" class="cards">
      <thead><tr><th>Linha</th><th>Campo</th><th>Código</th><th>Motivo</th><th>Conteúdo da linha</th></tr></thead>
      <tbody>{{#rejects}}<tr><td data-label="Linha">{{line}}</td><td data-label="Campo">{{field}}</td><td data-label="Código">{{code}}</td>
        <td class="wrap" data-label="Motivo">{{message}}</td><td class="wrap raw" data-label="Conteúdo">{{raw}}</td></tr>{{/rejects}}</tbody>
    </table></div>
    {{#more_rejects}}<p class="muted">Mostrando as primeiras {{shown}}; o relatório traz todas.</p>{{/more_rejects}}
    {{/has_rejects}}
    <script src="/app/lote.js" defer></script>
    """#

    /// The batch page's script, served at `/app/lote.js`: it follows a batch that has not ended
    /// and reloads the page when it does. Where to ask comes from the page (`data-estado`).
    static let batchScript = #"""
    (function () {
      var status = document.getElementById("situacao");
      if (!status || status.dataset.final === "true") return;
      function poll() {
        fetch(status.dataset.estado, { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (s) {
            status.textContent = s.status;
            ["recebidas", "registradas", "alteradas", "baixadas", "duplicadas", "rejeitadas", "revisao"].forEach(function (k) {
              document.getElementById(k).textContent = s.counts[k];
            });
            if (s.final) { window.location.reload(); } else { setTimeout(poll, 1000); }
          })
          .catch(function () { setTimeout(poll, 3000); });
      }
      setTimeout(poll, 1000);
    })();

    """#
}
