create function coord.verification_decay(t coord.agent_trust)
returns coord.agent_trust
language plpgsql
stable
set search_path = ''
as $$
declare
  f double precision := power(0.5, extract(epoch from (now() - t.decayed_at)) / (30 * 86400.0));
begin
  t.passes := t.passes * f;
  t.failures := t.failures * f;
  t.regressions := t.regressions * f;
  t.reverts := t.reverts * f;
  t.decayed_at := now();
  return t;
end;
$$;
comment on function coord.verification_decay(coord.agent_trust) is 'Internal: the trust counts decayed to now (half-life 30 days).';
