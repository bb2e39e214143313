"""Demo agents in the moto Cognito user pool, and real Cognito ID tokens for them.

Users are created the way an admin would (AdminCreateUser, then a permanent password) and tokens
come from AdminInitiateAuth, so they are signed by the pool's key and carry its issuer and the
app client as audience, exactly what the HTTP API's JWT authorizer checks. (AWS would also need
ALLOW_ADMIN_USER_PASSWORD_AUTH on the app client; moto does not enforce client auth flows.)
"""

from __future__ import annotations

import contextlib
import logging

from local.aws import Aws
from local.settings import AGENT_PASSWORD, DEMO_GROUPS

log = logging.getLogger("identity")


class UnknownAgent(Exception):
    pass


class Identity:
    def __init__(self, aws: Aws, pool_id: str, client_id: str) -> None:
        self.aws = aws
        self.pool_id = pool_id
        self.client_id = client_id
        self.agents: set[str] = set()

    def create_agents(self, agents: dict[str, str]) -> None:
        cognito = self.aws.client("cognito-idp")
        for username, name in agents.items():
            cognito.admin_create_user(
                UserPoolId=self.pool_id,
                Username=username,
                UserAttributes=[
                    {"Name": "name", "Value": name},
                    {"Name": "email", "Value": f"{username}@example.com"},
                    {"Name": "email_verified", "Value": "true"},
                ],
                TemporaryPassword=AGENT_PASSWORD + "-tmp",
                MessageAction="SUPPRESS",
            )
            cognito.admin_set_user_password(
                UserPoolId=self.pool_id, Username=username, Password=AGENT_PASSWORD, Permanent=True
            )
            self.agents.add(username)
            for group in DEMO_GROUPS.get(username, []):
                with contextlib.suppress(cognito.exceptions.GroupExistsException):
                    cognito.create_group(UserPoolId=self.pool_id, GroupName=group)
                cognito.admin_add_user_to_group(UserPoolId=self.pool_id, Username=username, GroupName=group)
        log.info("agents in user pool %s: %s", self.pool_id, ", ".join(sorted(self.agents)))

    def id_token(self, agent: str) -> str:
        if agent not in self.agents:
            raise UnknownAgent(agent)
        result = self.aws.client("cognito-idp").admin_initiate_auth(
            UserPoolId=self.pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": agent, "PASSWORD": AGENT_PASSWORD},
        )
        return str(result["AuthenticationResult"]["IdToken"])
