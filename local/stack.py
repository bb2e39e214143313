"""Brings the pieces up in order and holds them: moto, resources, functions, routes, pollers, schedules.

Start-up: moto server -> template resolved and every resource created -> SES sender identities
verified -> Cognito demo agents -> event capture -> provider sandboxes (Twilio, Meta, Telegram) and
the outbox (with moto's sent mail) -> worker pools -> HTTP server -> SQS pollers, S3 notifications
and schedules -> demo agents set online through the real agent API (``PUT /agent/me/presence``),
so nothing bypasses it. Health is 200 only once all of that succeeded.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local import moto_patches, webapp
from local.authorizer import JwtVerifier
from local.aws import Aws
from local.bus import EventCapture
from local.clock import Clock
from local.commerce import CommerceSandboxes
from local.functions import FunctionCatalog
from local.gateway import Gateway
from local.identity import Identity
from local.live import LiveApis, read_websocket_apis, rewrite_environment
from local.meta import MetaSandbox
from local.pollers import Pollers
from local.provision import Provisioner
from local.runtime import Runtime
from local.s3events import S3Notifications
from local.sandbox import Faults, Outbox, TwilioSandbox
from local.schedules import Scheduler
from local.ses import InboundMail, SesOutbox, verify_identities
from local.settings import DEMO_GROUPS, Settings
from local.shop import DemoShop
from local.streams import StreamPollers
from local.telegram import TelegramSandbox
from local.template import (
    Physical,
    Resolver,
    TemplateError,
    load_template,
    parameter_values,
    parse_parameter_overrides,
)

log = logging.getLogger("stack")

SEED_ROUTE = ("PUT", "/agent/me/presence")
SEED_ATTEMPTS = 3
# the demo knowledge base (the bot stays off until an admin turns it on)
KB_SEED = Path(__file__).resolve().parent / "seeds" / "kb.jsonl"
KB_ROUTE = ("PUT", "/admin/kb/articles/x")


def _no_resource(logical_id: str) -> Physical:
    """A rule names parameters only (CloudFormation refuses a rule that names a resource)."""
    raise TemplateError(f"a rule names the resource {logical_id}: rules may name parameters only")


class Stack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = Clock()
        self.aws = Aws(settings.region, settings.public_base_url)
        self.outbox = Outbox()
        self.faults = Faults()
        self.identity: Identity | None = None
        self._state = "starting"
        self._knowledge_base = "none"    # the demo articles: none, seeding, then seeded (health says which)
        self._problem = ""
        self._server_thread: threading.Thread | None = None

    # ------------------------------------------------------------ start-up

    def start(self) -> None:
        started = time.perf_counter()
        settings = self.settings
        template = load_template(settings.template)
        declared = template.get("Parameters") or {}
        defaults = {k: v for k, v in settings.local_parameter_defaults().items() if k in declared}
        parameters = parameter_values(
            template, defaults, parse_parameter_overrides(settings.parameter_overrides)
        )
        if broken := Resolver(template, parameters, settings.region, _no_resource).broken_rules():
            # refused before anything starts, as CloudFormation refuses the deploy
            raise TemplateError("the template's rules refuse these parameters: " + " ".join(broken))
        moto_patches.set_ses_clock(self.clock.now)
        self.aws.start()
        self.provisioner = Provisioner(
            template, settings.template.parent, self.aws, settings.base_url, settings.websocket_base_url
        )
        self.resolver = Resolver(template, parameters, settings.region, self.provisioner.lookup)
        self.provisioner.resolver = self.resolver
        self.provisioner.provision_all()
        self.catalog = FunctionCatalog(template, settings.template.parent, self.resolver, self.provisioner)
        self.catalog.load()
        websocket_apis = read_websocket_apis(template, self.resolver, self.provisioner, self.catalog.functions)
        rewrite_environment(
            self.catalog.functions, websocket_apis, settings.base_url, self.aws.endpoint, settings.websocket_base_url
        )
        sender = str(parameters.get("SesFromAddress") or settings.ses_from_address)
        verify_identities(self.aws, [sender, *self._receipt_domains()])
        self.inbound_mail = InboundMail(self.aws, self.provisioner.receipt_rules, self.clock.now)

        self.identity = self._identity()
        if self.identity is not None:
            self.identity.create_agents(settings.agents)
        self.verifier = JwtVerifier(self.aws.endpoint)
        buses = [
            self.provisioner.created[lid].ref
            for lid in self.provisioner.of_type("AWS::Events::EventBus")
            if lid in self.provisioner.created
        ]
        self.events = EventCapture(self.aws, buses)
        self.events.start()

        self.twilio = TwilioSandbox(
            settings.twilio.get("account_sid", ""),
            settings.twilio.get("auth_token", ""),
            self.outbox,
            self.faults,
            settings.status_callbacks,
            self.clock.now,
        )
        self.meta = MetaSandbox(
            settings.meta.get("access_token", ""),
            settings.meta.get("app_secret", ""),
            self.outbox,
            self.faults,
            settings.status_callbacks,
            settings.webhook_base_url,
            settings.base_url,
            self.clock.now,
        )
        self.telegram = TelegramSandbox(
            settings.telegram.get("bot_token", ""), self.outbox, self.faults, self.clock.now
        )
        self.commerce = CommerceSandboxes(settings.commerce, settings.webhook_base_url, self.outbox, self.clock.now)
        self.outbox.add_source(SesOutbox(settings.region))
        self.runtime = Runtime(
            self.catalog.functions, self.aws.environment(), settings.concurrency, self.clock
        )
        self.s3_notifications = S3Notifications(
            self.catalog.functions,
            self.provisioner.bucket_notifications,
            self.aws,
            self.runtime,
            self.clock,
            settings.concurrency,
        )
        self._build_web_app()
        self.live = LiveApis(websocket_apis, self.runtime, settings.websocket_port, settings.region,
                             settings.live_idle_timeout_s, settings.public_base_url)
        self.live.start()
        self.gateway = Gateway(self)
        self._server_thread = threading.Thread(target=self.gateway.serve_forever, daemon=True, name="http")
        self._server_thread.start()
        self.shop = self._demo_shop()
        for spec in self.catalog.functions.values():
            for route in spec.routes:
                access = f"JWT {route.authorizer}" if route.authorizer else "public"
                log.info("route %-7s %-40s -> %s (%s)", route.method, route.path, spec.logical_id, access)

        sources = [source for spec in self.catalog.functions.values() for source in spec.sqs]
        self.pollers = Pollers(sources, self.aws, self.runtime, settings.concurrency)
        self.pollers.start()
        self.streams = StreamPollers(
            [source for spec in self.catalog.functions.values() for source in spec.streams],
            self.aws,
            self.runtime,
            self.provisioner.queues,
        )
        self.streams.start()
        self.s3_notifications.start()
        self.scheduler = Scheduler(
            [s for spec in self.catalog.functions.values() for s in spec.schedules],
            self.aws,
            self.runtime,
            self.clock,
        )
        self.scheduler.start()
        log.info(
            "serving %s and %s (%d functions, %d routes, %d queue sources, %d stream sources, %d S3 sources, "
            "%d schedules) after %.1f s",
            settings.base_url,
            self.websocket_url or "no WebSocket API",
            len(self.catalog.functions),
            len(self.gateway.router.routes),
            len(self.pollers.pollers),
            len(self.streams.sources),
            len(self.s3_notifications.sources),
            len(self.scheduler.schedules),
            time.perf_counter() - started,
        )
        log.info(
            "local routes: /_local/{health,token,clock,schedules/<id>/run,outbox,events,sandbox/faults,"
            "functions,email,commerce/webhooks,websocket,aws,live/<api>/<stage>/@connections/<id>}; "
            "sandboxes: /_sandbox/{twilio,meta,telegram,shopify,woocommerce}"
        )

    def _demo_shop(self) -> DemoShop | None:
        """The demo shop's site with the widget on its pages (local/shop.py); the stack runs without it when its
        port is taken."""
        secret = self.settings.webchat.get("visitor_secret")
        if not secret:
            return None
        try:
            shop = DemoShop(self.settings.shop_port, self.settings.base_url, secret,
                            lambda: self.clock.now().timestamp(), media_url=self.aws.endpoint,
                            live_url=self.live.url_of_logical("WidgetLiveApi") or "",
                            public_base_url=self.settings.public_base_url)
        except OSError as error:
            log.warning("the demo shop could not listen on port %d: %s", self.settings.shop_port, error)
            return None
        shop.start()
        log.info("demo shop with the web-chat widget: %s/", shop.url)
        return shop

    def _build_web_app(self) -> None:
        if not self.settings.build_web:
            return
        try:
            webapp.build(self.settings.template.parent / "web")
        except (webapp.BuildFailed, OSError, subprocess.TimeoutExpired) as error:
            log.error("the web app could not be built; the APIs still run: %s", error)

    @property
    def websocket_url(self) -> str | None:
        """The inbox's WebSocket API's URL (the web app's config.json ``wsUrl``), or None without one."""
        live = getattr(self, "live", None)
        return (live.url_of_logical("LiveApi") or live.url) if live is not None else None

    def _receipt_domains(self) -> list[str]:
        """Domains the receipt rules receive for: replies are often sent from them (reply+id@...)."""
        domains = []
        for rule in self.provisioner.receipt_rules:
            for recipient in rule.recipients:
                domain = recipient.rpartition("@")[2].lstrip(".")
                if domain:
                    domains.append("@" + domain)
        return domains

    def _identity(self) -> Identity | None:
        """The user pool and app client the JWT authorizers trust (else the first ones)."""
        created = self.provisioner.created
        pools = [lid for lid in self.provisioner.of_type("AWS::Cognito::UserPool") if lid in created]
        clients = [lid for lid in self.provisioner.of_type("AWS::Cognito::UserPoolClient") if lid in created]
        if not pools or not clients:
            log.warning("no Cognito user pool and client in the template: no agents, no tokens")
            return None
        pool_id, client_id = created[pools[0]].ref, created[clients[0]].ref
        for api in self.catalog.apis.values():
            for authorizer in api.authorizers.values():
                trusted_pools = [
                    created[p].ref for p in pools if authorizer.issuer.endswith("/" + created[p].ref)
                ]
                trusted_clients = [created[c].ref for c in clients if created[c].ref in authorizer.audience]
                if trusted_pools and trusted_clients:
                    return Identity(self.aws, trusted_pools[0], trusted_clients[0])
        return Identity(self.aws, pool_id, client_id)

    def seed(self) -> None:
        """Set the demo agents online through the agent API, as they would themselves."""
        self._state = "seeding"
        agents = self.settings.seed_agents
        if not agents:
            self._state = "ok"
            log.info("ready: %s (no agents seeded)", self.settings.base_url)
            return
        problems: list[str] = []
        if self.identity is None:
            problems.append("the template has no Cognito user pool to sign agents in")
        elif self.gateway.router.match(*SEED_ROUTE) is None:
            problems.append(f"the template has no route {' '.join(SEED_ROUTE)} (the agent API)")
        else:
            for agent in agents:
                problem = self._seed_agent(agent)
                if problem:
                    problems.append(f"{agent}: {problem}")
        if problems:
            self._problem = "seeding failed: " + "; ".join(problems)
            self._state = "failed"
            log.error("%s", self._problem)
            log.error("the stack keeps running, but /_local/health answers 503 until restarted")
        else:
            self._knowledge_base = "seeding"
            self._state = "ok"
            log.info("ready: %s (agents online: %s)", self.settings.base_url, ", ".join(agents))
            self._seed_knowledge_base()

    def _seed_knowledge_base(self) -> None:
        """The demo knowledge base through the admin API, one article a request (each is embedded as it is
        written), originals before translations; an article already there is left as it is. It runs after the
        stack reports ready: GET /admin/kb/articles shows how far it got, and /_local/health's ``knowledge_base``
        says ``seeding`` until it is done (``seeded``; ``none`` without a knowledge base to seed), so a bench can
        start measuring after it."""
        if self.identity is None or self.gateway.router.match(*KB_ROUTE) is None or not KB_SEED.exists():
            self._knowledge_base = "none"
            return
        admin = next((a for a, groups in DEMO_GROUPS.items() if "admins" in groups and a in self.identity.agents),
                     None)
        if admin is None:
            self._knowledge_base = "none"
            return
        articles = [json.loads(line) for line in KB_SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
        articles.sort(key=lambda a: a.get("translation_of") is not None)
        token = self.identity.id_token(admin)
        written = 0
        for article in articles:
            body = {k: v for k, v in article.items() if k != "id"}
            request = urllib.request.Request(
                f"{self.settings.base_url}/admin/kb/articles/{article['id']}", data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"}, method="PUT")
            try:
                with urllib.request.urlopen(request, timeout=120) as response:  # our own server
                    written += response.status == 200
            except Exception as error:  # a demo convenience: logged, never fatal
                log.warning("demo article %s not seeded: %s", article["id"], error)
        self._knowledge_base = "seeded"
        log.info("demo knowledge base: %d of %d articles (the bot is off: PUT /admin/bot to turn it on)",
                 written, len(articles))

    def _seed_agent(self, agent: str) -> str:
        assert self.identity is not None
        problem = ""
        for attempt in range(1, SEED_ATTEMPTS + 1):
            try:
                token = self.identity.id_token(agent)
                request = urllib.request.Request(
                    self.settings.base_url + SEED_ROUTE[1],
                    data=json.dumps({"presence": "online"}).encode(),
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
                    method=SEED_ROUTE[0],
                )
                with urllib.request.urlopen(request, timeout=60) as response:  # our own server
                    log.info("seeded %s online (%d)", agent, response.status)
                    return ""
            except urllib.error.HTTPError as error:
                problem = f"{' '.join(SEED_ROUTE)} answered {error.code} {error.read()[:300]!r}"
            except Exception as error:  # reported in health
                problem = f"{type(error).__name__}: {error}"
            log.warning("seeding %s, attempt %d of %d: %s", agent, attempt, SEED_ATTEMPTS, problem)
            time.sleep(attempt)
        return problem

    # ------------------------------------------------------------ state

    def health(self) -> tuple[int, dict[str, Any]]:
        if self._state == "ok":
            return 200, {"status": "ok", "knowledge_base": self._knowledge_base}
        if self._state == "failed":
            return 503, {"status": "error", "error": self._problem}
        return 503, {"status": self._state}

    def describe_functions(self) -> dict[str, Any]:
        return {
            logical_id: {
                "name": spec.name,
                "handler": spec.handler,
                "timeout": spec.timeout,
                "routes": [f"{r.route_key} ({r.authorizer or 'public'})" for r in spec.routes],
                "queues": [s.queue_url for s in spec.sqs],
                "streams": [f"{s.event}: {s.stream_arn} (from {s.starting_position})" for s in spec.streams],
                "schedules": [f"{s.event}: {s.expression}" for s in spec.schedules],
                "s3": [source.describe() for source in self._s3_sources(logical_id)],
                "workers": self.runtime.pools[logical_id].describe(),
            }
            for logical_id, spec in self.catalog.functions.items()
        }

    def _s3_sources(self, logical_id: str) -> list[Any]:
        notifications = getattr(self, "s3_notifications", None)
        sources = (
            notifications.sources if notifications is not None else self.catalog.functions[logical_id].s3
        )
        return [source for source in sources if source.function == logical_id]

    def close(self) -> None:
        log.info("shutting down")
        for part in ("scheduler", "s3_notifications", "streams", "pollers", "events", "live"):
            if hasattr(self, part):
                getattr(self, part).close()
        if getattr(self, "shop", None) is not None:
            self.shop.close()
        if hasattr(self, "gateway"):
            self.gateway.shutdown()
        if hasattr(self, "runtime"):
            self.runtime.close()
        self.aws.stop()
