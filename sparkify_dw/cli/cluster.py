"""`sparkify-dw cluster create|status|delete`: your own Redshift cluster, from the command line.

Mounted on the main command by `register(app)` (`app.add_typer(cluster_app, name="cluster")`).
Mistakes are ClusterErrors (one line on stderr, exit 1, printed by `sparkify_dw.cli.app.main`). The
password comes from $SPARKIFY_DB_PASSWORD or a hidden prompt, never from a flag, and is never
printed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from sparkify_dw.cli.consoles import err, out
from sparkify_dw.cli.jsonout import print_document
from sparkify_dw.cli.options import FormatOption, OutputFormat
from sparkify_dw.cluster import (
    MAX_NODES,
    NODE_TYPES,
    PASSWORD_ENV,
    ClusterError,
    ClusterSpec,
    ClusterStatus,
    Step,
    check_password,
    cluster_status,
    create_cluster,
    delete_cluster,
)
from sparkify_dw.dwhcfg import config_values, write_dwh_config

cluster_app = typer.Typer(
    help="Your own Redshift cluster: IAM role, security group and cluster, made and removed "
    "with boto3.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def register(app: typer.Typer) -> None:
    """Add `sparkify-dw cluster …` to the `sparkify-dw` app (once, however often called)."""
    if not any(group.name == "cluster" for group in app.registered_groups):
        app.add_typer(cluster_app, name="cluster")


IdentifierOption = Annotated[
    str, typer.Option("--identifier", help="The cluster identifier.", show_default=True)
]
RoleOption = Annotated[
    str,
    typer.Option("--role-name", help="The IAM role that lets Redshift read S3.", show_default=True),
]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region", help="AWS region (default: AWS_DEFAULT_REGION, or your profile's region)"
    ),
]


@cluster_app.command()
def create(
    cidr: Annotated[
        str,
        typer.Option(
            "--cidr",
            help="Who may connect to port 5439, as a CIDR block (e.g. your address/32).",
        ),
    ],
    identifier: IdentifierOption = "sparkify",
    node_type: Annotated[
        str, typer.Option("--node-type", help=f"One of {', '.join(NODE_TYPES)}.")
    ] = "dc2.large",
    nodes: Annotated[
        int, typer.Option("--nodes", help=f"Number of nodes, 1 (single-node) to {MAX_NODES}.")
    ] = 4,
    role_name: RoleOption = "myRedshiftRole",
    db_name: Annotated[str, typer.Option("--db-name", help="The database to create.")] = "dev",
    db_user: Annotated[str, typer.Option("--db-user", help="The master user.")] = "awsuser",
    region: RegionOption = None,
    config: Annotated[
        Path, typer.Option("--config", help="The dwh.cfg to write the endpoint and role into.")
    ] = Path("dwh.cfg"),
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the cluster is available.")
    ] = False,
    save_password: Annotated[
        bool,
        typer.Option("--save-password", help="Also write DB_PASSWORD into dwh.cfg (mode 600)."),
    ] = False,
    public: Annotated[
        bool,
        typer.Option(
            "--public/--private", help="Whether the cluster gets a public address (for --cidr)."
        ),
    ] = True,
) -> None:
    """Create (or find) the IAM role, the security group rule and the cluster; write dwh.cfg.

    Safe to repeat: what exists is kept. Password: $SPARKIFY_DB_PASSWORD, or a prompt.
    """
    spec = ClusterSpec(
        identifier=identifier.lower(),
        node_type=node_type,
        nodes=nodes,
        role_name=role_name,
        db_name=db_name,
        db_user=db_user,
        cidr=cidr,
        public=public,
    )
    spec.validate()
    password = _password()
    if spec.cidr.strip() in ("0.0.0.0/0", "::/0"):
        err.print(
            f"[yellow]warning:[/] --cidr {spec.cidr} opens port 5439 to the whole internet",
            markup=True,
        )
    with _interruptible(f"cluster {spec.identifier} goes on being created if it was asked for"):
        result = create_cluster(spec, password, region=region, wait=wait, progress=_spinner)
    _print_steps(result.steps)
    status = result.status
    if not result.changed:
        out.print(f"Nothing to change: cluster {status.identifier} and its role and rule exist.")
    if status.host:
        out.print(
            f"Cluster {status.identifier} is {status.state} at {status.host}:{status.port}"
            f" (database {status.db_name}, user {status.db_user})"
        )
    else:
        out.print(
            f"Cluster {status.identifier} is {status.state}: it has no endpoint yet. Run the same "
            "command with --wait to wait for it and write HOST into the config."
        )
    saved = password if save_password else None
    changed = write_dwh_config(config, config_values(status, result.role_arn, saved))
    keys = "HOST DB_NAME DB_USER DB_PORT" if status.host else "DB_NAME DB_USER DB_PORT"
    keys += " DB_PASSWORD" if save_password else ""
    verb = "Wrote" if changed else "Unchanged:"
    out.print(f"{verb} {config}: [CLUSTER] {keys}, [IAM_ROLE] ARN", markup=False)
    if save_password and not any(s.changed and s.what.startswith("Cluster ") for s in result.steps):
        err.print(
            "[yellow]note:[/] the cluster already existed; its password was not changed, the "
            f"one written into {config} is the one you gave",
            markup=True,
        )
    elif not save_password:
        out.print(
            f"{config} has no password: add DB_PASSWORD under [CLUSTER] (or rerun with "
            "--save-password) before `sparkify-dw run --config`",
            markup=False,
        )


def _password() -> str:
    """$SPARKIFY_DB_PASSWORD, or typed twice at a hidden prompt; checked before any AWS call."""
    password = os.environ.get(PASSWORD_ENV)
    if not password:
        if not _stdin_is_terminal():
            raise ClusterError(
                f"No password: set {PASSWORD_ENV}, or run in a terminal to type it at a prompt"
            )
        try:
            password = str(
                typer.prompt(
                    "Master password for the database user",
                    hide_input=True,
                    confirmation_prompt=True,
                    err=True,
                )
            )
        except typer.Abort:
            raise ClusterError(
                f"No password: set {PASSWORD_ENV} or type it at the prompt"
            ) from None
    check_password(password)
    return password


@contextmanager
def _interruptible(going_on: str) -> Iterator[None]:
    """Ctrl-C: say what AWS goes on doing (not the main command's "load was rolled back")."""
    try:
        yield
    except KeyboardInterrupt:
        err.print(
            f"interrupted: {going_on}; what was done stays. Run the same command again to "
            "finish (it is safe to repeat), or see `sparkify-dw cluster status`",
            markup=False,
        )
        raise SystemExit(130) from None


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _spinner(message: str) -> Any:
    """The progress display of a wait: a spinner on stderr (a plain line when not a terminal)."""
    if not err.is_terminal:
        err.print(message + " …", markup=False)
    return err.status(message, spinner="dots")


def _print_steps(steps: tuple[Step, ...]) -> None:
    for step in steps:
        mark = "[green]+[/]" if step.changed else "[dim]=[/]"
        out.print(f"{mark} ", end="", markup=True)
        out.print(step.what, markup=False)


@cluster_app.command()
def status(
    identifier: IdentifierOption = "sparkify",
    region: RegionOption = None,
    output: FormatOption = OutputFormat.text,
) -> None:
    """The cluster's state, nodes, endpoint, IAM roles and ingress rules."""
    found = cluster_status(identifier.lower(), region=region)
    if output is OutputFormat.json:
        print_document(found.to_dict())
        return
    _print_status(found)


def _print_status(status: ClusterStatus) -> None:
    rows = [
        ("cluster", f"{status.identifier} ({status.region})"),
        ("state", status.state),
        ("nodes", f"{status.nodes} x {status.node_type} ({status.cluster_type})"),
        ("endpoint", f"{status.host}:{status.port}" if status.host else "none yet"),
        ("database", f"{status.db_name}, user {status.db_user}"),
        ("encrypted", "yes" if status.encrypted else "no"),
        ("public", "yes" if status.public else "no"),
        ("VPC", status.vpc_id or "-"),
    ]
    rows += [("IAM role", arn) for arn in status.role_arns] or [("IAM role", "none")]
    rows += [("ingress", rule.describe()) for rule in status.ingress] or [("ingress", "none")]
    for label, value in rows:
        out.print(f"{label:<10} {value}", markup=False)


@cluster_app.command()
def delete(
    identifier: IdentifierOption = "sparkify",
    yes: Annotated[bool, typer.Option("--yes", help="Really delete: required.")] = False,
    final_snapshot: Annotated[
        str | None,
        typer.Option(
            "--final-snapshot",
            help="Take a final snapshot with this identifier first (default: no snapshot).",
        ),
    ] = None,
    keep_role: Annotated[
        bool, typer.Option("--keep-role", help="Keep the IAM role (and its policies).")
    ] = False,
    role_name: RoleOption = "myRedshiftRole",
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Wait until the cluster is gone, then delete its group."),
    ] = False,
    region: RegionOption = None,
) -> None:
    """Delete the cluster, the rule and security group made for it, and the IAM role."""
    identifier = identifier.lower()
    if not yes:
        snapshot = f"after a final snapshot {final_snapshot}" if final_snapshot else "with its data"
        role = "" if keep_role else f" and the IAM role {role_name}"
        raise ClusterError(
            f"Refusing to delete cluster {identifier} ({snapshot}), its security group{role} "
            "without --yes"
        )
    with _interruptible(f"cluster {identifier} goes on being deleted if it was asked to"):
        result = delete_cluster(
            identifier,
            role_name=role_name,
            final_snapshot=final_snapshot,
            keep_role=keep_role,
            wait=wait,
            region=region,
            progress=_spinner,
        )
    _print_steps(result.steps)
    if not result.changed:
        out.print(f"Nothing to delete: no cluster {identifier} and nothing made for it.")
