create function coord.verification_trust_of(p_agent_id text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  t coord.agent_trust;
  v_evidence double precision;
  v_score double precision;
  v_adjust int := 0;
begin
  select * into t from coord.agent_trust where agent_id = p_agent_id;
  if not found then
    t := row(p_agent_id, 0, 0, 0, 0, now())::coord.agent_trust;
  end if;
  t := coord.verification_decay(t);
  v_evidence := t.passes + t.failures + t.regressions + t.reverts;
  -- Laplace-smoothed pass rate; regressions weigh double and reverts triple: they escaped verification once.
  v_score := (t.passes + 1) / (t.passes + t.failures + 2 * t.regressions + 3 * t.reverts + 2);
  if v_evidence >= 5 and v_score >= 0.9 then
    v_adjust := -1;
  elsif v_evidence >= 2 and v_score < 0.5 then
    v_adjust := 1;
  end if;
  return jsonb_build_object(
    'agent_id', p_agent_id,
    'passes', round(t.passes::numeric, 3), 'failures', round(t.failures::numeric, 3),
    'regressions', round(t.regressions::numeric, 3), 'reverts', round(t.reverts::numeric, 3),
    'evidence', round(v_evidence::numeric, 3), 'score', round(v_score::numeric, 4), 'adjustment', v_adjust,
    'formula', 'score = (passes+1)/(passes+failures+2*regressions+3*reverts+2), counts halved every 30 days; '
               'adjust -1 when evidence>=5 and score>=0.9, +1 when evidence>=2 and score<0.5');
end;
$$;
comment on function coord.verification_trust_of(text) is
  'Internal: an agent''s decayed trust score and the tier adjustment it earns (-1, 0 or +1), with the formula.';
