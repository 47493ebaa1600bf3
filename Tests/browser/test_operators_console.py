"""The operators' console (/ops) in a real headless Chromium, driven by selenium, against the real
`esteira serve` on the embedded default (SQLite and local files in a temporary folder).

It follows a stalled batch end to end: its transforms die (the staging area cannot be written,
two attempts per job), the batch reads `stalled` to its client and the client's webhook receiver
(a real HTTP server in this process) gets `batch.stalled`; an operator signs in to the console,
finds the batch and retries it from its page; the batch completes with exact counts and the
receiver gets `batch.completed_with_rejects`. Then a viewer is refused an action, and every page is
visited. A screenshot of each page goes to .ci/artifacts/ (ESTEIRA_ARTIFACTS overrides), at a
laptop's screen size, named ops-NN-<page>.png.

Run by scripts/test after the Swift tests, with the other browser tests:

    .venv/bin/python -m unittest discover -s Tests/browser -v
"""
import datetime
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from esteira_browser import ARTIFACTS, BINARY, background, chromium, click_and_wait, csp_violations, serve



class Receiver(http.server.BaseHTTPRequestHandler):
    """The client's webhook endpoint: keeps every body it is sent."""
    bodies = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        Receiver.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class OperatorsConsoleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="esteira-ops-")
        cls.data = os.path.join(cls.tmp, "data")
        cls.env = dict(os.environ, ESTEIRA_DATA_DIR=cls.data, ESTEIRA_JOB_MAX_ATTEMPTS="2", ESTEIRA_RETRY_BASE_SECONDS="0.05",
                       ESTEIRA_WEBHOOK_ALLOW_PRIVATE="1", ESTEIRA_NOTIFY_POLL_SECONDS="0.1", ESTEIRA_POLL_SECONDS="0.1")
        cls.env.pop("DATABASE_URL", None)

        def cli(*args):
            out = subprocess.run([BINARY, *args, "--json"], env=cls.env, check=True, capture_output=True, text=True).stdout
            return json.loads(out)["api_key"]
        cls.client_key = cli("clients", "create", "--name", "Loja Exemplo", "--document", "11.222.333/0001-81", "--sub-batch-size", "2")
        cls.operator_key = cli("operators", "create", "--name", "Olga Operadora", "--role", "operator")
        cls.admin_key = cli("operators", "create", "--name", "Ana Administradora", "--role", "admin")
        cls.viewer_key = cli("operators", "create", "--name", "Vera Leitora", "--role", "viewer")

        cls.receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.receiver.serve_forever, daemon=True).start()

        cls.log = open(os.path.join(cls.tmp, "server.log"), "w")
        cls.server, cls.base = serve(cls.env, cls.log)
        cls.browser = chromium(1366, 900)
        cls.step = 0

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.server.terminate()
        cls.server.wait(timeout=30)
        cls.receiver.shutdown()
        cls.log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def shot(self, name):
        OperatorsConsoleTest.step += 1
        self.browser.save_screenshot(os.path.join(ARTIFACTS, f"ops-{OperatorsConsoleTest.step:02d}-{name}.png"))

    def api(self, method, path, body=None, key=None):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Authorization": "Bearer " + (key or self.client_key),
                                                  "Content-Type": "text/csv" if isinstance(body, bytes) else "application/json"})
        with urllib.request.urlopen(request) as r:
            return json.load(r)

    def wait_batch(self, batch_id, statuses, seconds=90):
        deadline = time.time() + seconds
        while time.time() < deadline:
            batch = self.api("GET", "/v1/batches/" + batch_id)
            if batch["status"] in statuses:
                return batch
            time.sleep(0.1)
        self.fail(f"batch {batch_id} never reached {statuses}: {batch}")

    def wait_hooks(self, count, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline and len(Receiver.bodies) < count:
            time.sleep(0.1)
        return [b["event"] for b in Receiver.bodies]

    def click_and_wait(self, element_id):
        click_and_wait(self.browser, element_id)

    def sign_in(self, key):
        b = self.browser
        b.delete_all_cookies()
        b.get(self.base + "/ops")
        self.assertIn("/ops/entrar", b.current_url)
        if OperatorsConsoleTest.step == 0:
            self.shot("entrar")
        b.find_element(By.ID, "entrar-chave").send_keys(key)
        self.click_and_wait("entrar-enviar")
        self.assertIn("/ops/visao-geral", b.current_url)

    def test_stalled_batch_retried_from_the_console_then_every_page(self):
        b = self.browser
        self.api("POST", "/v1/webhooks", {"url": "http://127.0.0.1:%d/hooks" % self.receiver.server_address[1]})

        # The staging area cannot be written: a file stands where its folder goes.
        staging = os.path.join(self.data, "blobs", "staging")
        shutil.rmtree(staging, ignore_errors=True)
        with open(staging, "w") as f:
            f.write("not a folder")
        # Three rows, two sub-batches of two: by hand, R1 and R3 register; R2's document has
        # check digits 00 where 123456789's are 09 (R003).
        year = datetime.date.today().year - 1
        rows = (f"external_id,name,document,amount,due_date\nR1,Ana,248.438.034-80,10.00,{year}-01-01\n"
                f"R2,Bia,123.456.789-00,1.00,{year}-01-01\nR3,Caio,111.444.777-35,3.00,{year}-02-01\n")
        batch_id = self.api("POST", "/v1/batches", rows.encode())["id"]
        stalled = self.wait_batch(batch_id, ["stalled"])
        self.assertEqual(stalled["stalled"]["step"], "transform")
        self.assertEqual(self.wait_hooks(1)[0], "batch.stalled")
        os.remove(staging)

        # The operator finds the batch in the console and retries it from its page.
        self.sign_in(self.operator_key)
        self.shot("visao-geral")
        self.assertEqual(b.find_element(By.ID, "lotes-stalled").text, "1")
        self.click_and_wait("lotes-stalled")
        self.shot("lotes-parados")
        b.find_element(By.LINK_TEXT, batch_id).click()
        WebDriverWait(b, 30).until(lambda d: d.find_elements(By.ID, "reprocessar-enviar"))
        self.assertIn("Parado", b.find_element(By.ID, "situacao").text)
        self.shot("lote-parado")
        self.click_and_wait("reprocessar-enviar")
        self.assertIn("de volta à fila", b.find_element(By.ID, "aviso").text)

        done = self.wait_batch(batch_id, ["completed", "completed_with_rejects"])
        self.assertEqual(done["status"], "completed_with_rejects")
        self.assertEqual(done["counts"], {"received": 3, "registered": 2, "updated": 0, "withdrawn": 0, "duplicates": 0,
                                          "rejected": 1, "review": 0})
        self.assertEqual(self.wait_hooks(2), ["batch.stalled", "batch.completed_with_rejects"])
        b.get(self.base + "/ops/lotes/" + batch_id)
        self.assertEqual(b.find_element(By.ID, "registradas").text, "2")
        self.assertIn("R003", b.find_element(By.ID, "rejeicoes").text)
        self.shot("lote-concluido")

        # The audit names the operator and each step retried (the first transform to die stalled
        # the batch; the other may still have been between attempts, and then needed no retry).
        b.get(self.base + "/ops/auditoria?acao=job.retry")
        audit = b.find_element(By.ID, "auditoria").text
        self.assertIn("Olga Operadora", audit)
        self.assertIn(audit.count("job.retry"), [1, 2], audit)
        self.shot("auditoria")

        # A viewer reads but is given nothing to act with (the in-process tests check the 403).
        self.sign_in(self.viewer_key)
        b.get(self.base + "/ops/bloqueio")
        self.assertEqual(b.find_elements(By.ID, "incluir"), [])  # no forms to act with
        self.shot("bloqueio-leitura")

        # The admin visits every page.
        self.sign_in(self.admin_key)
        for path, name, marker in [("/ops/visao-geral", "visao-geral-admin", "tarefas-paradas"), ("/ops/lotes", "lotes", "lotes"),
                                   ("/ops/tarefas", "tarefas", "filtro"), ("/ops/clientes", "clientes", "clientes"),
                                   ("/ops/bloqueio", "bloqueio", "incluir"), ("/ops/revisao", "revisao", "filtro"),
                                   ("/ops/notificacoes?estado=delivered", "notificacoes", "notificacoes"), ("/ops/lago", "lago", "rodar"),
                                   ("/ops/auditoria", "auditoria-tudo", "auditoria"), ("/ops/operadores", "operadores", "operadores")]:
            b.get(self.base + path)
            self.assertTrue(b.find_elements(By.ID, marker), f"{path} lacks #{marker}")
            # Fits a laptop's screen: nothing to scroll sideways.
            self.assertLessEqual(b.execute_script("return document.documentElement.scrollWidth"),
                                 b.execute_script("return window.innerWidth"), path)
            self.shot(name)
        b.get(self.base + "/ops/clientes")
        b.find_element(By.LINK_TEXT, "Loja Exemplo").click()
        WebDriverWait(b, 30).until(lambda d: d.find_elements(By.ID, "linhas-mes"))
        self.assertEqual(b.find_element(By.ID, "linhas-mes").text, "3")
        self.shot("cliente")

        # The admin adds a document to the blacklist, and sees it in the list and its history.
        b.get(self.base + "/ops/bloqueio")
        b.find_element(By.ID, "incluir-documento").send_keys("529.982.247-25")
        b.find_element(By.ID, "incluir-motivo").send_keys("fraude confirmada")
        self.click_and_wait("incluir-enviar")
        self.assertIn("fraude confirmada", b.find_element(By.ID, "historico").text)
        self.shot("bloqueio-documento")

        # The console's CSS applied (allowed by its hash: the header is dark, not the default
        # transparent), and nothing refused by the Content-Security-Policy on any page seen.
        self.assertEqual(background(b, "header"), "rgb(29, 39, 51)")
        self.assertEqual(csp_violations(b), [])

        self.click_and_wait("sair")
        b.get(self.base + "/ops/lotes")
        self.assertIn("/ops/entrar", b.current_url)
        self.shot("saiu")


if __name__ == "__main__":
    unittest.main()
