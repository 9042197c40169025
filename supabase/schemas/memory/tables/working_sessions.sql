create table coord.working_sessions (
  agent_id      text not null,
  session_id    text not null,
  repo          text not null default '',
  budget_tokens int not null check (budget_tokens between 100 and 100000),
  updated_at    timestamptz not null default now(),
  folded_at     timestamptz,
  primary key (agent_id, session_id)
);
comment on table coord.working_sessions is
  'The token budget (and repository) of one agent session''s working memory; its row lock serialises adds. folded_at: '
  'when the session''s end last folded its items into episodic memory (coord.working_fold).';

alter table coord.working_sessions enable row level security;
