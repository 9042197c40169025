import { PGlite } from '@electric-sql/pglite';
let t=Date.now();
const db = await PGlite.create();
console.log('init', Date.now()-t);
console.log(await db.query('select version()'));
t=Date.now(); const c = await db.clone?.(); console.log('clone', typeof db.clone, Date.now()-t);
t=Date.now(); const dump = await db.dumpDataDir('none'); console.log('dump', Date.now()-t, dump.size);
t=Date.now(); const d2 = await PGlite.create({loadDataDir: dump}); console.log('load', Date.now()-t);
console.log(Object.getOwnPropertyNames(Object.getPrototypeOf(db)).join(' '));
