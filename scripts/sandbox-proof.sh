#!/usr/bin/env bash
# Proves the migration on a real sandbox account, end to end, with one command:
#
#   AWS_PROFILE=sandbox scripts/sandbox-proof.sh envs/sandbox.json [service] [--keep] [--cutover]
#
# It deploys phase 0, then moves the service to phase 1, 2 and 3 (one `cdk deploy --all` per config),
# flips the flags through the CLI (`npm run migrate -- ...`), asserts with AWS API calls that the flag
# parameters, the ALB rules and their weights are what the flags say, requests every composite endpoint
# of the service through the gateway, redeploys and asserts that nothing was reset, proves that leaving
# phase 3 is refused while the gateway weight is above 0 and goes through at 0, and destroys
# everything it created (unless --keep). --cutover also runs the bulk migration
# and records the point of no return (the service's migration command must succeed on an empty database).
#
# Needs: credentials for a sandbox account (never production: it deletes what it deployed), the account
# bootstrapped for the CDK in the region (`npx cdk bootstrap aws://<account>/<region>`), Docker (the
# phase-3 deploy builds the KrakenD image), Node.js with `npm ci` done, and the AWS CLI v2. The
# environment file needs `account`, `region`, the service with its routes and `bulkMigration.command`
# (envs/sandbox.example.json is one). It costs what the stacks cost for about an hour.
set -euo pipefail
cd "$(dirname "$0")/.."

ENV_FILE=${1:?usage: scripts/sandbox-proof.sh <env.json> [service] [--keep] [--cutover]}
shift
SERVICE=users
KEEP=0
CUTOVER=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    --cutover) CUTOVER=1 ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) SERVICE=$arg ;;
  esac
done

log() { printf '\n=== %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d)
REGION=$(node -e 'const c=require(process.argv[1]);if(!c.account||!c.region){console.error("the environment file needs account and region");process.exit(1)}console.log(c.region)' "$(realpath "$ENV_FILE")")
ACCOUNT=$(node -e 'console.log(require(process.argv[1]).account)' "$(realpath "$ENV_FILE")")
export AWS_REGION=$REGION AWS_DEFAULT_REGION=$REGION
CALLER=$(aws sts get-caller-identity --query Account --output text) || fail "no AWS credentials"
[ "$CALLER" = "$ACCOUNT" ] || fail "the credentials are for account $CALLER, the environment file names $ACCOUNT"

# One config per phase, derived from the environment file: only the service's phase changes, and the
# load balancer's deletion protection is off (the destroy at the end deletes it).
for phase in 0 1 2 3; do
  node -e '
    const [file, service, phase, out] = process.argv.slice(1);
    const c = JSON.parse(require("fs").readFileSync(file, "utf8"));
    const s = (c.services || []).find((x) => x.name === service);
    if (!s) { console.error(`no service ${service} in ${file}`); process.exit(1); }
    s.phase = Number(phase);
    c.alb = { ...c.alb, deletionProtection: false };
    require("fs").writeFileSync(out, JSON.stringify(c, null, 2));
  ' "$ENV_FILE" "$SERVICE" "$phase" "$WORK/phase$phase.json"
done
NAME=$(node -e 'console.log(require(process.argv[1]).name)' "$WORK/phase0.json")
PREFIX=$(npx tsx scripts/sandbox-plan.ts "$WORK/phase3.json" prefix)
P="$PREFIX/$SERVICE"

deploy() { # <phase>
  log "deploy phase $1"
  npx cdk deploy --all --require-approval never -c "config=$WORK/phase$1.json" --outputs-file "$WORK/outputs$1.json"
}
migrate() { # <phase> <cli args...>
  local phase=$1
  shift
  log "migrate $*"
  npm run --silent migrate -- "$@" --config "$WORK/phase$phase.json" --region "$REGION" --reason sandbox-proof
}
# The checked value of a flag (what every reader reads): <name>:last-good.
checked() { aws ssm get-parameter --name "$1:last-good" --query Parameter.Value --output text; }
value() { aws ssm get-parameter --name "$1" --query Parameter.Value --output text; }
eventually() { # <description> <command...>: retries for two minutes (the guard and the hook are asynchronous)
  local what=$1
  shift
  for _ in $(seq 1 24); do
    if "$@"; then echo "ok: $what"; return 0; fi
    sleep 5
  done
  fail "$what"
}
json_field() { node -e 'const v=JSON.parse(process.argv[1]);console.log(String(v[process.argv[2]]))' "$1" "$2"; }
routing_mode_is() { [ "$(json_field "$(checked "$P/routing")" mode)" = "$1" ]; }
gateway_weight_is() { [ "$(json_field "$(checked "$P/gateway")" weight)" = "$1" ]; }

legacy_stable() { # waits until the legacy ECS service's rollout is done
  local arn
  arn=$(aws cloudformation describe-stack-resources --stack-name "$NAME-30-platform" \
    --query "StackResources[?ResourceType=='AWS::ECS::Service'].PhysicalResourceId" --output text)
  aws ecs wait services-stable --cluster "$(echo "$arn" | cut -d/ -f2)" --services "$arn"
}

listener_arn() { # the application listener: 443 with a certificate, else 80
  local arns
  arns=$(aws cloudformation describe-stack-resources --stack-name "$NAME-30-platform" \
    --query "StackResources[?ResourceType=='AWS::ElasticLoadBalancingV2::Listener'].PhysicalResourceId" --output text)
  # shellcheck disable=SC2086
  aws elbv2 describe-listeners --listener-arns $arns \
    --query 'sort_by(Listeners,&Port)[-1].ListenerArn' --output text
}
rule_weights() { # <priority> -> "<legacy> <gateway>" (the monolith's target group is the listener's default)
  local listener legacy
  listener=$(listener_arn)
  legacy=$(aws elbv2 describe-listeners --listener-arns "$listener" --query 'Listeners[0].DefaultActions[0].TargetGroupArn' --output text)
  aws elbv2 describe-rules --listener-arn "$listener" --output json \
    --query "Rules[?Priority=='$1'].Actions[0].ForwardConfig.TargetGroups" |
    node -e 'const [groups]=JSON.parse(require("fs").readFileSync(0,"utf8"));const l=process.argv[1];
      if(!groups){console.log("missing");process.exit(0)}
      console.log(`${groups.find((g)=>g.TargetGroupArn===l)?.Weight} ${groups.find((g)=>g.TargetGroupArn!==l)?.Weight}`)' "$legacy"
}
pin_regex() { # <priority>
  aws elbv2 describe-rules --listener-arn "$(listener_arn)" \
    --query "Rules[?Priority=='$1'].Conditions[?Field=='path-pattern'].PathPatternConfig.RegexValues[] | [0]" --output text
}
rules_at() { # <expected legacy> <expected gateway>: every rule of the service at phase 3 has these weights
  local ok=0
  while read -r svc mode priority; do
    [ "$svc" = "$SERVICE" ] || continue
    case "$mode" in
      krakend) [ "$(rule_weights "$priority")" = "$1 $2" ] || ok=1 ;;
      pin) # alb mode: weight 0 pins (^/?...), 100 releases (^#...)
        regex=$(pin_regex "$priority")
        if [ "$2" = 0 ]; then [[ "$regex" == '^/?'* ]] || ok=1; else [[ "$regex" == '^#'* ]] || ok=1; fi ;;
      alb) [ "$(aws elbv2 describe-rules --listener-arn "$(listener_arn)" --query "length(Rules[?Priority=='$priority'])" --output text)" = 1 ] || ok=1 ;;
    esac
  done < <(npx tsx scripts/sandbox-plan.ts "$WORK/phase3.json" rules)
  return $ok
}
live_at() { [ "$(value "$P/live/legacy-weight") $(value "$P/live/gateway-weight")" = "$1 $2" ]; }
mode_of_service() { node -e 'const c=require(process.argv[1]);console.log(c.services.find((s)=>s.name===process.argv[2]).gateway||"krakend")' "$WORK/phase3.json" "$SERVICE"; }

destroy() {
  log "destroy (everything this run deployed)"
  local stacks
  stacks=$(npx tsx scripts/sandbox-plan.ts "$WORK/phase3.json" stacks | tac)
  for stack in $stacks; do
    aws cloudformation describe-stacks --stack-name "$stack" >/dev/null 2>&1 || continue
    aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name "$stack" >/dev/null
    # Databases have deletion protection: lift it so that the stack can go (a final snapshot is taken).
    for db in $(aws cloudformation describe-stack-resources --stack-name "$stack" \
      --query "StackResources[?ResourceType=='AWS::RDS::DBInstance'].PhysicalResourceId" --output text); do
      aws rds modify-db-instance --db-instance-identifier "$db" --no-deletion-protection --apply-immediately >/dev/null
    done
    echo "deleting $stack"
    aws cloudformation delete-stack --stack-name "$stack"
    aws cloudformation wait stack-delete-complete --stack-name "$stack" || echo "WARNING: $stack did not delete cleanly; see its events"
  done
  # Runtime-owned parameters are never deleted by a stack (decision 0002): remove this run's.
  aws ssm get-parameters-by-path --path "$PREFIX" --recursive --query 'Parameters[].Name' --output text |
    tr '\t' '\n' | xargs -r -n 10 aws ssm delete-parameters --names >/dev/null || true
  echo "Retained on purpose and left for you to delete: the final database snapshots, the databases' secrets and log groups, the ALB access-log bucket (aws rds describe-db-snapshots; aws secretsmanager list-secrets; aws logs describe-log-groups; aws s3 ls)."
}
if [ "$KEEP" = 0 ]; then trap destroy EXIT; fi

# ---- phase 0: the monolith behind the ALB, nothing else
deploy 0
[ -z "$(npx tsx scripts/sandbox-plan.ts "$WORK/phase0.json" rules)" ] || fail "phase 0 plans ALB rules"
rules=$(aws elbv2 describe-rules --listener-arn "$(listener_arn)" --query 'length(Rules[?IsDefault==`false`])' --output text)
[ "$rules" = 0 ] || fail "phase 0: the listener has $rules rules besides the default"
echo "ok: phase 0 listener forwards everything to the monolith"

# ---- phase 1: flags created with safe values; a flip through the CLI; a redeploy keeps it
deploy 1
eventually "routing starts off" routing_mode_is off
eventually "gateway weight starts at 0" gateway_weight_is 0
# The service stack started a new deployment of the legacy service once the endpoint existed: the CLI
# refuses the first route change until every legacy task started after it (docs/decisions/0018).
log "wait for the legacy service's rollout"
legacy_stable
migrate 1 route "$SERVICE" users sandbox-user-1 sandbox-user-2
eventually "routing is the allowlist" routing_mode_is users
deploy 1
routing_mode_is users || fail "the redeploy of phase 1 reset the routing flag"
echo "ok: the redeploy kept routing users"

# ---- phase 2: everyone; optionally the cutover
deploy 2
routing_mode_is users || fail "the phase-2 deploy reset the routing flag"
migrate 2 route "$SERVICE" all
eventually "routing is all" routing_mode_is all
if [ "$CUTOVER" = 1 ]; then
  migrate 2 cutover "$SERVICE" --confirm "$SERVICE"
  eventually "the cutover is recorded" bash -c "[ \"\$(aws ssm get-parameter --name '$P/cutover:last-good' --query Parameter.Value --output text | node -e 'console.log(JSON.parse(require(\"fs\").readFileSync(0,\"utf8\")).completed)')\" = true ]"
fi

# ---- phase 3: the ALB rules at the service's planned priorities, weights through the CLI, a redeploy keeps them
deploy 3
rules_at 100 0 || fail "phase 3 starts with the routes on the monolith (100/0, or pinned) at the planned priorities"
echo "ok: the rules are at their planned priorities, on the monolith"
if [ "$(mode_of_service)" = alb ]; then WEIGHT=100; else WEIGHT=30; fi
# Routing is "all" since phase 2: the weight moves only then (lib/flags/invariants.ts refuses it otherwise).
migrate 3 gateway "$SERVICE" "$WEIGHT"
eventually "the rules follow the gateway flag ($WEIGHT)" rules_at $((100 - WEIGHT)) "$WEIGHT"
if [ "$(mode_of_service)" = krakend ]; then
  eventually "the applied weights are recorded" live_at $((100 - WEIGHT)) "$WEIGHT"
fi
deploy 3
rules_at $((100 - WEIGHT)) "$WEIGHT" || fail "the redeploy of phase 3 reset the ALB weights"
echo "ok: the redeploy kept the live weights"

URL=$(aws elbv2 describe-load-balancers --query "LoadBalancers[?contains(LoadBalancerName, '$NAME')].DNSName | [0]" --output text 2>/dev/null || true)
SCHEME=$(node -e 'console.log(require(process.argv[1]).alb?.certificateArn ? "https" : "http")' "$WORK/phase3.json")
# Composite endpoints (docs/gateway-composition.md): with the service's rules all on the gateway, each
# is answered by KrakenD's merging endpoint, which marks every answer with X-KrakenD-Completed: true (all
# parts), false (a partial answer, or a 500 when no part answered, as with the stand-in images). A
# missing header means the gateway has no such endpoint, or the ALB sent the request elsewhere.
composites=$(npx tsx scripts/sandbox-plan.ts "$WORK/phase3.json" composites | awk -v s="$SERVICE" '$1 == s { print $2 }')
if [ -n "$composites" ]; then
  migrate 3 gateway "$SERVICE" 100
  eventually "the rules send the service's routes and composites to the gateway" rules_at 0 100
  for path in $composites; do
    head=$(curl -sk -o /dev/null -D - "$SCHEME://$URL$path" | tr -d '\r')
    status=$(printf '%s\n' "$head" | awk 'NR == 1 { print $2 }')
    completed=$(printf '%s\n' "$head" | awk -F': ' 'tolower($1) == "x-krakend-completed" { print $2 }')
    [ -n "$completed" ] || fail "GET $path: $status without X-KrakenD-Completed: not answered by the gateway's composite endpoint"
    echo "ok: GET $path answered by the gateway's composite endpoint ($status, X-KrakenD-Completed: $completed)"
  done
fi
# A hand edit of a rule is put back by the traffic switch's schedule (every 5 minutes) at the latest.
migrate 3 gateway "$SERVICE" 0
eventually "the rollback to the monolith is applied" rules_at 100 0

# ---- leaving phase 3 (docs/runbook.md, "Before each transition"): refused at a weight above 0, before any
# rule or target group changes (the stack rolls back), and through once weight 0 is applied
migrate 3 gateway "$SERVICE" "$WEIGHT"
eventually "the rules follow the gateway flag ($WEIGHT) again" rules_at $((100 - WEIGHT)) "$WEIGHT"
if deploy 2; then fail "the deploy out of phase 3 went through while the gateway weight was $WEIGHT"; fi
rules_at $((100 - WEIGHT)) "$WEIGHT" || fail "the refused deploy out of phase 3 changed the ALB rules"
echo "ok: the gateway gate refused leaving phase 3 at weight $WEIGHT, and the rules are as they were"
migrate 3 gateway "$SERVICE" 0
eventually "weight 0 is applied" rules_at 100 0
deploy 2
echo "ok: leaving phase 3 at weight 0 went through"

cat <<EOF

All assertions passed for $SERVICE in $NAME ($REGION).
To check by hand before the destroy (rerun with --keep): the query string through an alb-mode rewrite,
  curl -si "http://$URL/<one of the service's old paths>?x=1"   (the service must see ?x=1)
EOF
