-- Recomputes a changeset's state from its results. The evidence rule lives here and only here.
create function coord.verification_refresh(p_id uuid)
returns text
language plpgsql
set search_path = ''
as $$
declare
  c coord.changesets;
  v_state text;
begin
  select * into c from coord.changesets where id = p_id for update;
  select case
    when bool_or(r.status = 'rejected') then 'rejected'
    -- A commit made under a lost lock, or a forged or unreadable lock trailer, fails the change whatever the tiers say.
    when bool_or(r.status = 'failed') or c.fencing ->> 'status' in ('lock_lost', 'invalid') then 'failed'
    when count(*) = cardinality(c.required_tiers)
         and bool_and(r.status = 'passed' and r.commit_sha = c.commit_sha) then 'verified'
    else 'pending' end
    into v_state
  from coord.verification_results r
  where r.changeset_id = p_id and r.tier = any (c.required_tiers);
  if v_state is distinct from c.state then
    update coord.changesets set state = v_state, version = version + 1, updated_at = now() where id = p_id;
    perform coord.emit('verification.' || v_state, c.agent_id, c.session_id, p_id::text,
                       jsonb_build_object('repo', c.repo, 'commit_sha', c.commit_sha, 'tier', c.tier));
    if not c.agent_bound then
      null; -- trust counts only identities bound to a key (see coord.changesets.agent_bound)
    elsif v_state = 'verified' then
      perform coord.verification_trust_record(c.agent_id, 'pass');
    elsif v_state = 'failed' then
      -- A failure on a branch whose previous changeset by this agent was verified is a regression.
      perform coord.verification_trust_record(c.agent_id, case when exists (
        select 1 from coord.changesets p
         where p.agent_id = c.agent_id and p.repo = c.repo and p.branch is not distinct from c.branch
           and p.id <> c.id and p.created_at < c.created_at and p.state = 'verified'
           and p.created_at = (select max(q.created_at) from coord.changesets q
                                where q.agent_id = c.agent_id and q.repo = c.repo and q.id <> c.id
                                  and q.branch is not distinct from c.branch and q.created_at < c.created_at))
        then 'regression' else 'failure' end);
    end if;
  else
    update coord.changesets set version = version + 1, updated_at = now() where id = p_id;
  end if;
  return v_state;
end;
$$;
comment on function coord.verification_refresh(uuid) is
  'Internal: derives a changeset''s state from its results (verified only when every required tier passed on the '
  'changeset''s own commit and its fencing evidence found no lost or forged lock token), records trust on the '
  'transition, bumps version so the check run is re-synced.';
