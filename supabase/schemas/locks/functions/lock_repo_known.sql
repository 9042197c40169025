create function coord.lock_repo_known(p_repo text)
returns boolean
language sql
stable
set search_path = ''
as $$ select p_repo = 'default' or exists (select 1 from coord.lock_repos where repo = p_repo) $$;
comment on function coord.lock_repo_known(text) is 'Internal: whether a repo namespace exists.';
