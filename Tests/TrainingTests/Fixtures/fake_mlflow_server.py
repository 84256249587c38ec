"""A stand-in MLflow tracking server for the MLflowTracker's unit tests: the REST 2.0 calls the tracker makes, with
MLflow's JSON shapes (experiments get-by-name / create, runs create / get / log-batch / update, artifact proxy PUT),
kept in memory. GET /_requests returns every call (method, path, query, JSON body or artifact size). Binds 127.0.0.1
on an ephemeral port and prints "PORT <n>". The real server is exercised by `make test-mlflow`.

    python3 fake_mlflow_server.py [--fail-after N] [--lifetime S]
"""
import argparse, json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

state = {"experiments": {}, "runs": {}, "requests": [], "calls": 0}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path == "/_requests":
            with lock:
                return self.reply(200, state["requests"])
        with lock:
            state["calls"] += 1
            if FAIL_AFTER is not None and state["calls"] > FAIL_AFTER:
                return self.reply(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "down for the test"})
            entry = {"method": method, "path": url.path, "query": parse_qs(url.query)}
            if url.path.startswith("/api/2.0/mlflow-artifacts/artifacts/"):
                entry["bytes"] = len(raw)
                state["requests"].append(entry)
                return self.reply(200, {})
            body = json.loads(raw) if raw else {}
            entry["body"] = body
            state["requests"].append(entry)
            api = url.path[len("/api/2.0/mlflow/"):]
            q = parse_qs(url.query)
            if api == "experiments/get-by-name":
                name = q.get("experiment_name", [""])[0]
                if name not in state["experiments"]:
                    return self.reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"No experiment '{name}'"})
                return self.reply(200, {"experiment": {"experiment_id": state["experiments"][name], "name": name}})
            if api == "experiments/create":
                eid = str(len(state["experiments"]) + 1)
                state["experiments"][body["name"]] = eid
                return self.reply(200, {"experiment_id": eid})
            if api == "runs/create":
                rid = "run%d" % (len(state["runs"]) + 1)
                info = {"run_id": rid, "run_uuid": rid, "experiment_id": body["experiment_id"], "status": "RUNNING",
                        "artifact_uri": "mlflow-artifacts:/%s/%s/artifacts" % (body["experiment_id"], rid)}
                state["runs"][rid] = {"info": info, "data": {"params": [], "metrics": [], "tags": list(body.get("tags", []))}}
                return self.reply(200, {"run": state["runs"][rid]})
            if api == "runs/get":
                rid = q.get("run_id", [""])[0]
                if rid not in state["runs"]:
                    return self.reply(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no run"})
                return self.reply(200, {"run": state["runs"][rid]})
            if api == "runs/log-batch":
                run = state["runs"][body["run_id"]]
                for key in ("params", "metrics", "tags"):
                    run["data"][key] += body.get(key, [])
                return self.reply(200, {})
            if api == "runs/update":
                run = state["runs"][body["run_id"]]
                run["info"]["status"] = body["status"]
                run["info"]["end_time"] = body.get("end_time")
                return self.reply(200, {"run_info": run["info"]})
            return self.reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": url.path})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--fail-after", type=int, default=None)
    ap.add_argument("--lifetime", type=float, default=60)
    args = ap.parse_args()
    FAIL_AFTER = args.fail_after
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(args.lifetime)
    sys.exit(0)
