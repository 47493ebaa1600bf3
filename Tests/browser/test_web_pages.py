"""The self-service pages in a real headless Chromium, driven by selenium, against the real
`esteira serve` on the embedded default (SQLite and local files in a temporary folder).

Run by scripts/test after the Swift tests:

    .venv/bin/python -m unittest discover -s Tests/browser -v

Needs Debian's chromium and chromium-driver, and selenium and openpyxl in .venv. A screenshot of
every step goes to .ci/artifacts/ (ESTEIRA_ARTIFACTS overrides), at a phone's screen size.

The workbook is written here with openpyxl; every expected count, amount and reject is worked out
by hand in the comments beside its row."""
import csv
import datetime
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

import openpyxl
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from esteira_browser import ARTIFACTS, BINARY, background, chromium, click_and_wait, csp_violations, serve



def workbook(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    # None of these names is a standard one for the contract id, the amount or the due date.
    ws.append(["Nº do contrato", "Nome do cliente", "CPF/CNPJ do devedor", "Saldo devedor (R$)", "Data venc.", "Contato"])
    ws.append(["C-1", "Ana Lima", "529.982.247-25", 1500.5, datetime.date(2024, 1, 10), "ana@exemplo.com.br"])  # 150,050 cents
    ws.append(["C-2", "Bruno Reis", "111.444.777-35", "2.345,67", datetime.date(2023, 6, 30), None])  # 234,567 cents
    ws.append(["C-3", "Carla Dias", "123.456.789-00", 10, datetime.date(2024, 2, 1), None])  # check digits of 123456789 are 09: R003
    ws.append(["C-4", "Davi Melo", "529.982.247-25", -5, datetime.date(2024, 2, 1), None])  # not above zero: R005
    ws.append(["C-5", "Eva Costa", "11.222.333/0001-81", 99.99, datetime.date(2099, 1, 1), None])  # due after receipt: R007
    for row in range(2, 7):
        ws.cell(row=row, column=5).number_format = "dd/mm/yyyy"
    wb.save(path)


class WebPagesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix="esteira-browser-")
        cls.env = dict(os.environ, ESTEIRA_DATA_DIR=os.path.join(cls.tmp, "data"))
        cls.env.pop("DATABASE_URL", None)
        made = subprocess.run([BINARY, "clients", "create", "--name", "Loja Exemplo", "--document", "11.222.333/0001-81", "--json"],
                              env=cls.env, check=True, capture_output=True, text=True)
        cls.key = json.loads(made.stdout)["api_key"]
        cls.log = open(os.path.join(cls.tmp, "server.log"), "w")
        cls.server, cls.base = serve(cls.env, cls.log)
        cls.downloads = os.path.join(cls.tmp, "downloads")
        os.makedirs(cls.downloads)
        cls.browser = chromium(390, 844, downloads=cls.downloads)
        cls.step = 0

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.server.terminate()
        cls.server.wait(timeout=30)
        cls.log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def shot(self, name):
        WebPagesTest.step += 1
        self.browser.save_screenshot(os.path.join(ARTIFACTS, f"{WebPagesTest.step:02d}-{name}.png"))

    def click_and_wait(self, element_id):
        click_and_wait(self.browser, element_id)

    def text(self, element_id):
        return self.browser.find_element(By.ID, element_id).text

    def test_sign_in_upload_map_watch_download(self):
        b = self.browser
        # Signing in: a wrong key first.
        b.get(self.base + "/app")
        self.assertIn("/app/entrar", b.current_url)
        self.shot("entrar")
        b.find_element(By.ID, "chave").send_keys("est_errada")
        self.click_and_wait("entrar")
        self.assertIn("Chave de API inválida", self.text("erro"))
        self.shot("chave-invalida")
        b.find_element(By.ID, "chave").send_keys(self.key)
        self.click_and_wait("entrar")
        self.assertIn("/app/lotes", b.current_url)
        self.assertIn("Nenhum lote ainda", b.page_source)
        self.shot("lotes-vazio")

        # A file that is not what its name says: a PDF named .xlsx.
        bad = os.path.join(self.tmp, "dividas.xlsx")
        with open(bad, "wb") as f:
            f.write(b"%PDF-1.7\n\x00\xe2\xe3\xcf\xd3\n")
        self.click_and_wait("novo")
        self.shot("enviar")
        b.find_element(By.ID, "arquivo").send_keys(bad)
        self.click_and_wait("enviar")
        self.assertIn("O arquivo é um PDF", self.text("erro"))
        self.shot("arquivo-invalido")

        # The workbook: the first rows, and suggestions where the names allow them.
        good = os.path.join(self.tmp, "carteira.xlsx")
        workbook(good)
        b.find_element(By.ID, "arquivo").send_keys(good)
        self.click_and_wait("enviar")
        errors = b.find_elements(By.ID, "erro")
        self.assertIn("/app/enviar/", b.current_url, errors[0].text if errors else b.page_source[:2000])
        preview = b.find_element(By.ID, "previa").text
        self.assertIn("Ana Lima", preview)
        self.assertIn("2.345,67", preview)
        # Headers as a creditor writes them: every required field suggested from its words
        # (contrato, cliente, CPF, saldo, venc.); "Contato" says nothing, so no e-mail.
        suggested = {k: Select(b.find_element(By.ID, "col_" + k)).first_selected_option.text
                     for k in ["external_id", "name", "document", "amount", "due_date", "email", "operation"]}
        self.assertEqual(suggested, {"external_id": "Nº do contrato", "name": "Nome do cliente", "document": "CPF/CNPJ do devedor",
                                     "amount": "Saldo devedor (R$)", "due_date": "Data venc.", "email": "— não há —",
                                     "operation": "— não há —"})
        self.shot("mapear-sugestoes")

        # Submitting without a required column: the page says which.
        Select(b.find_element(By.ID, "col_external_id")).select_by_value("")
        self.click_and_wait("confirmar")
        self.assertIn("Escolha a coluna do campo identificador da dívida", self.text("erro"))
        self.shot("mapear-incompleto")
        Select(b.find_element(By.ID, "col_external_id")).select_by_visible_text("Nº do contrato")
        Select(b.find_element(By.ID, "col_email")).select_by_visible_text("Contato")
        Select(b.find_element(By.ID, "decimal_format")).select_by_value("comma")
        preset = b.find_element(By.ID, "preset")
        preset.clear()
        preset.send_keys("Carteira mensal")
        self.shot("mapear-escolhido")
        self.click_and_wait("confirmar")

        # The batch page refreshes itself until the preview is ready: what the file would do,
        # nothing registered yet. Rows 2 and 3 are new; rows 4, 5 and 6 would be rejected.
        self.assertIn("/app/lotes/", b.current_url)
        self.shot("lote-em-andamento")
        WebDriverWait(b, 120).until(lambda d: d.find_elements(By.ID, "previa-lote"))
        self.assertEqual(self.text("situacao"), "Prévia pronta: aguardando confirmação")
        self.assertEqual([self.text(i) for i in ["previa-linhas", "previa-novas", "previa-alteradas", "previa-baixadas",
                                                 "previa-iguais", "previa-conflitos", "previa-rejeitadas"]],
                         ["5", "2", "0", "0", "0", "0", "3"])
        rows = b.find_elements(By.CSS_SELECTOR, "#previa-rejeicoes tbody tr")
        self.assertEqual([r.find_elements(By.TAG_NAME, "td")[2].get_attribute("textContent") for r in rows], ["R003", "R005", "R007"])
        request = urllib.request.Request(self.base + "/v1/debts", headers={"Authorization": "Bearer " + self.key})
        self.assertEqual(json.load(urllib.request.urlopen(request))["items"], [])
        self.shot("previa")

        # Confirmed, it registers, and the page refreshes itself until the batch ends.
        self.click_and_wait("confirmar-registro")
        WebDriverWait(b, 120).until(lambda d: d.find_element(By.ID, "situacao").get_attribute("data-final") == "true"
                                    and not d.find_elements(By.ID, "previa-lote"))
        self.assertEqual(self.text("situacao"), "Concluído com rejeições")
        self.assertEqual(b.find_elements(By.ID, "erro"), [])
        # Rows 2 and 3 register; rows 4, 5 and 6 are rejected (see workbook()).
        self.assertEqual([self.text(i) for i in ["recebidas", "registradas", "duplicadas", "rejeitadas"]], ["5", "2", "0", "3"])
        rows = b.find_elements(By.CSS_SELECTOR, "#rejeitadas-tabela tbody tr")
        got = [(r.find_elements(By.TAG_NAME, "td")[0].text, r.find_elements(By.TAG_NAME, "td")[2].text) for r in rows]
        self.assertEqual(got, [("4", "R003"), ("5", "R005"), ("6", "R007")])
        # Each reject shows its row's own data, not only its line.
        self.assertIn("Carla Dias", rows[0].find_elements(By.TAG_NAME, "td")[4].get_attribute("textContent"))
        self.shot("lote-concluido")

        # The reject report, downloaded by the browser.
        b.find_element(By.ID, "baixar").click()
        deadline = time.time() + 30
        files = []
        # Chromium may name the file before it has written it (the bytes go to a .crdownload
        # beside it): the download is done when no .crdownload is left and the file has bytes.
        while time.time() < deadline:
            names = os.listdir(self.downloads)
            files = [f for f in names if f.endswith(".csv")]
            if files and not any(f.endswith(".crdownload") for f in names) \
                    and os.path.getsize(os.path.join(self.downloads, files[0])) > 0:
                break
            time.sleep(0.2)
        self.assertEqual(len(files), 1, "the reject report was not downloaded")
        with open(os.path.join(self.downloads, files[0]), encoding="utf-8-sig", newline="") as f:
            report = list(csv.reader(f, delimiter=";"))
        self.assertEqual(report[0], ["linha", "campo", "código", "mensagem", "conteúdo original"])
        self.assertEqual([(r[0], r[1], r[2]) for r in report[1:]], [("4", "CPF/CNPJ", "R003"), ("5", "valor", "R005"),
                                                                    ("6", "data de vencimento", "R007")])

        # The registry, through the API: amounts exact to the cent.
        request = urllib.request.Request(self.base + "/v1/debts", headers={"Authorization": "Bearer " + self.key})
        debts = {d["external_id"]: d["amount_cents"] for d in json.load(urllib.request.urlopen(request))["items"]}
        self.assertEqual(debts, {"C-1": 150050, "C-2": 234567})

        # The same workbook again: the mapping saved as "Carteira mensal" (not the default) is
        # offered and suggested, with what the header's words alone would not give (the e-mail in
        # "Contato", the decimal comma).
        b.get(self.base + "/app/enviar")
        b.find_element(By.ID, "arquivo").send_keys(good)
        self.click_and_wait("enviar")
        self.assertIn("Carteira mensal", self.text("formato-sugerido"))
        self.assertEqual(Select(b.find_element(By.ID, "formato")).first_selected_option.get_attribute("value"), "Carteira mensal")
        self.assertEqual(Select(b.find_element(By.ID, "col_email")).first_selected_option.text, "Contato")
        self.assertEqual(Select(b.find_element(By.ID, "decimal_format")).first_selected_option.get_attribute("value"), "comma")
        self.assertEqual(b.find_element(By.ID, "preset").get_attribute("value"), "Carteira mensal")
        self.shot("mapear-formato-salvo")

        # The batch list, and the same page on a desktop screen.
        b.get(self.base + "/app/lotes")
        self.assertIn("carteira.xlsx", b.find_element(By.ID, "lotes").text)
        # On a phone the list fits the screen: a card per batch, nothing to scroll sideways.
        table = b.find_element(By.ID, "lotes")
        self.assertLessEqual(b.execute_script("return arguments[0].scrollWidth", table),
                             b.execute_script("return arguments[0].parentElement.clientWidth", table))
        self.assertLessEqual(b.execute_script("return document.documentElement.scrollWidth"),
                             b.execute_script("return window.innerWidth"))
        self.shot("lotes")
        b.set_window_size(1280, 900)
        b.get(b.find_element(By.CSS_SELECTOR, "#lotes a").get_attribute("href"))
        self.shot("lote-desktop")
        b.set_window_size(390, 844)

        # The pages' CSS applied (allowed by its hash; the header is white, not the default
        # transparent), and nothing refused by their Content-Security-Policy on any page seen:
        # the status above changed through the served script.
        self.assertEqual(background(b, "header"), "rgb(255, 255, 255)")
        self.assertEqual(csp_violations(b), [])

        # Signing out ends the session: the pages ask to sign in again.
        self.click_and_wait("sair")
        b.get(self.base + "/app/lotes")
        self.assertIn("/app/entrar", b.current_url)
        self.shot("saiu")


if __name__ == "__main__":
    unittest.main()
