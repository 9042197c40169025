-- Default reference data: rows the schema expects to find, each block idempotent (`on conflict do nothing`) so it
-- runs on every start and never overwrites what an operator changed. Applied after the migrations by `npm start`,
-- `npm run migrate`, the test suites, `supabase db reset` and `supabase db push --include-seed`. Tables, functions and
-- privileges are not here: they live in supabase/schemas.

-- Locks: the namespace of calls that name no repo (coord.lock_repo_known accepts it even without the row).
insert into coord.lock_repos (repo) values ('default') on conflict (repo) do nothing;

-- Memory: tunables read by coord.recall, coord.add_working_item and coord.archive_memories (see docs/MEMORY.md).
insert into coord.memory_settings (key, value) values
  ('working_budget_tokens', '4000'),
  ('retention_days', '90'),
  ('recall_floor', '0.5'),
  ('vector_floor', '0.6')
on conflict (key) do nothing;

-- Verification gateway: default routing policies (picomatch globs, dot files included; `**/` also matches the root).
-- A change's tier is the highest min_tier among the policies its files match; unmatched files need tier 1.
insert into coord.verification_policies (id, description, patterns, min_tier, is_floor) values
  ('docs', 'Documentation', array['**/*.md', '**/*.mdx', '**/*.rst', '**/*.txt', 'docs/**', '**/LICENSE*'], 0, false),
  ('source', 'Source code', array['**/*.{ts,tsx,js,jsx,mjs,cjs,py,go,rs,java,kt,rb,php,cs,c,h,cpp,hpp,swift,scala,sh}'], 1, false),
  ('integration', 'Tests that need services, migrations, SQL, dependency manifests and lock files',
   array['**/*.integration.test.*', '**/integration/**', '**/migrations/**', '**/*.sql', '**/package.json',
         '**/package-lock.json', '**/yarn.lock', '**/pnpm-lock.yaml', '**/deno.json', '**/deno.lock', '**/requirements*.txt',
         '**/pyproject.toml', '**/poetry.lock', '**/Cargo.toml', '**/Cargo.lock', '**/go.mod', '**/go.sum', '**/Gemfile*'], 2, false),
  ('infrastructure', 'Infrastructure, compose files, deploy config',
   array['**/Dockerfile*', '**/docker-compose*.{yml,yaml}', '**/compose*.{yml,yaml}', '**/*.tf', '**/*.tfvars', 'infra/**',
         'deploy/**', '**/k8s/**', '**/helm/**', '**/fly.toml', '**/vercel.json', '**/netlify.toml', 'supabase/config.toml'], 3, false),
  ('sensitive', 'Auth, secrets (.env*, keys, certificates), CI workflows, CODEOWNERS, the gateway''s own policies',
   array['**/.env*', '**/*.pem', '**/*.key', '**/*.p12', '**/*.pfx', '**/*.crt', '**/id_rsa*', '**/id_ed25519*',
         '.github/workflows/**', '**/CODEOWNERS', '**/auth/**', '**/identity/**', 'functions-src/verification/**',
         'supabase/seed.sql', '**/*verification*.sql', 'supabase/schemas/verification/**',
         'supabase/schemas/grants.sql'], 4, true)
on conflict (id) do nothing;
