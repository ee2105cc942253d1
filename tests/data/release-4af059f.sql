BEGIN TRANSACTION;
CREATE TABLE as_run (
	id INTEGER NOT NULL, 
	bulletin_id INTEGER, 
	title VARCHAR NOT NULL, 
	path VARCHAR, 
	slot VARCHAR, 
	engine VARCHAR, 
	status VARCHAR(11) NOT NULL, 
	reason VARCHAR, 
	planned_at DATETIME, 
	started_at DATETIME NOT NULL, 
	ended_at DATETIME, 
	duration_s FLOAT, 
	kind VARCHAR(9) NOT NULL, 
	bulletin_class VARCHAR(9), 
	requested_at DATETIME, 
	operator VARCHAR, 
	PRIMARY KEY (id)
);
INSERT INTO "as_run" VALUES(1,4,'Phòng chống bão','cache/items/x.wav','sang','espeak','aired',NULL,'2026-03-02 23:30:00.000000','2026-03-02 05:00:00.000000','2026-03-02 05:01:00.000000',60.0,'programme',NULL,NULL,NULL);
INSERT INTO "as_run" VALUES(2,NULL,'Tiếp sóng VOV1',NULL,'trua',NULL,'failed','Không kết nối được luồng tiếp sóng','2026-03-03 04:30:00.000000','2026-03-02 05:00:00.000000','2026-03-02 05:00:00.000000',0.0,'relay',NULL,NULL,NULL);
INSERT INTO "as_run" VALUES(3,4,'Phòng chống bão','/tmp/tmp_vm5di50/data/cache/items/83b6792b6c60a0d72f5cd33976ad6a92.wav','chieu',NULL,'missed','Máy tắt lúc đến giờ','2026-03-03 09:30:00.000000','2026-03-02 05:00:00.000000','2026-03-02 05:00:00.000000',0.0,'programme',NULL,NULL,NULL);
INSERT INTO "as_run" VALUES(4,NULL,'Thông báo khẩn',NULL,NULL,NULL,'interrupted','Dừng bởi trực đài',NULL,'2026-03-02 05:00:00.000000','2026-03-02 05:00:00.000000',0.0,'urgent',NULL,'2026-03-02 04:59:58.000000','trucdai');
INSERT INTO "as_run" VALUES(5,NULL,'Cảnh báo: im lặng',NULL,NULL,NULL,'alarm','Im lặng 12 giây trên đường ra',NULL,'2026-03-02 05:00:00.000000','2026-03-02 05:00:00.000000',0.0,'alarm',NULL,NULL,NULL);
CREATE TABLE audit (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	user VARCHAR, 
	action VARCHAR(64) NOT NULL, 
	object_type VARCHAR(64) NOT NULL, 
	object_id VARCHAR(64), 
	detail VARCHAR, 
	PRIMARY KEY (id)
);
INSERT INTO "audit" VALUES(1,'2026-12-01 13:07:04.643049','quantri','user.add','user','quantri','role=admin');
INSERT INTO "audit" VALUES(2,'2026-12-01 13:07:05.119258','quantri','user.add','user','bientap','role=editor');
INSERT INTO "audit" VALUES(3,'2026-12-01 13:07:05.678017','quantri','user.add','user','lanhdao','role=leader');
INSERT INTO "audit" VALUES(4,'2026-12-01 13:07:06.241989','quantri','user.add','user','trucdai','role=operator');
INSERT INTO "audit" VALUES(5,'2026-12-01 13:07:06.252938','bientap','bulletin.create','bulletin','1','Lịch tiêm phòng');
INSERT INTO "audit" VALUES(6,'2026-12-01 13:07:06.258043','bientap','bulletin.create','bulletin','2','Thu thuế đất');
INSERT INTO "audit" VALUES(7,'2026-12-01 13:07:06.258754','bientap','bulletin.create','bulletin','3','Họp dân thôn Đông');
INSERT INTO "audit" VALUES(8,'2026-12-01 13:07:06.259352','bientap','bulletin.create','bulletin','4','Phòng chống bão');
INSERT INTO "audit" VALUES(9,'2026-12-01 13:07:06.259690','bientap','bulletin.submit','bulletin','2',NULL);
INSERT INTO "audit" VALUES(10,'2026-12-01 13:07:06.259785','bientap','bulletin.submit','bulletin','3',NULL);
INSERT INTO "audit" VALUES(11,'2026-12-01 13:07:06.259867','bientap','bulletin.submit','bulletin','4',NULL);
INSERT INTO "audit" VALUES(12,'2026-12-01 13:07:06.259988','lanhdao','bulletin.reject','bulletin','3','Thiếu giờ họp');
INSERT INTO "audit" VALUES(13,'2026-12-01 13:07:06.276212','lanhdao','bulletin.approve','bulletin','4',NULL);
CREATE TABLE bulletin (
	title VARCHAR(300) NOT NULL, 
	text VARCHAR NOT NULL, 
	bulletin_class VARCHAR(9) NOT NULL, 
	valid_from DATE, 
	valid_until DATE, 
	frequency VARCHAR(12) NOT NULL, 
	times INTEGER, 
	slot_names JSON, 
	topic VARCHAR(200), 
	id INTEGER NOT NULL, 
	status VARCHAR(9) NOT NULL, 
	created_at DATETIME NOT NULL, 
	approved_at DATETIME, 
	item_path VARCHAR, 
	item_engine VARCHAR, 
	item_duration_s FLOAT, 
	render_error VARCHAR, 
	recording_path VARCHAR, 
	created_by VARCHAR, 
	updated_at DATETIME, 
	updated_by VARCHAR, 
	submitted_at DATETIME, 
	approved_by VARCHAR, 
	review_comment VARCHAR, 
	PRIMARY KEY (id)
);
INSERT INTO "bulletin" VALUES('Lịch tiêm phòng','Trạm y tế xã thông báo lịch tiêm phòng dại cho chó mèo.','normal',NULL,NULL,'every_slot',NULL,'null','Y tế',1,'draft','2026-12-01 13:07:06.249723',NULL,NULL,NULL,NULL,NULL,NULL,'bientap',NULL,NULL,NULL,NULL,NULL);
INSERT INTO "bulletin" VALUES('Thu thuế đất','Đề nghị các hộ nộp thuế sử dụng đất phi nông nghiệp.','priority',NULL,NULL,'n_times',3,'null',NULL,2,'submitted','2026-12-01 13:07:06.253099',NULL,NULL,NULL,NULL,NULL,NULL,'bientap','2026-12-01 13:07:06.259666','bientap','2026-12-01 13:07:06.259666',NULL,NULL);
INSERT INTO "bulletin" VALUES('Họp dân thôn Đông','Mời bà con dự họp.','normal',NULL,'2026-03-31','every_slot',NULL,'null',NULL,3,'rejected','2026-12-01 13:07:06.258207',NULL,NULL,NULL,NULL,NULL,NULL,'bientap','2026-12-01 13:07:06.259974','lanhdao','2026-12-01 13:07:06.259768',NULL,'Thiếu giờ họp');
INSERT INTO "bulletin" VALUES('Phòng chống bão','Bà con chằng chống nhà cửa, không ra khơi.','emergency',NULL,NULL,'chosen_slots',NULL,'["sang", "chieu"]',NULL,4,'approved','2026-12-01 13:07:06.258844','2026-12-01 13:07:06.276171','/tmp/tmp_vm5di50/data/cache/items/83b6792b6c60a0d72f5cd33976ad6a92.wav','espeak',9.502375,NULL,NULL,'bientap','2026-12-01 13:07:06.259851','bientap','2026-12-01 13:07:06.259851','lanhdao',NULL);
CREATE TABLE scheduler_state (
	"key" VARCHAR NOT NULL, 
	value VARCHAR NOT NULL, 
	updated_at DATETIME NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "scheduler_state" VALUES('timetable_seeded','1','2026-12-01 13:07:04.223896');
INSERT INTO "scheduler_state" VALUES('timetable_version','1','2026-12-01 13:07:04.226808');
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO "schema_version" VALUES(1);
CREATE TABLE slot (
	kind VARCHAR(9) NOT NULL, 
	at TIME NOT NULL, 
	weekdays JSON, 
	date_from DATE, 
	date_until DATE, 
	on_date DATE, 
	max_minutes INTEGER NOT NULL, 
	source VARCHAR, 
	duration_min INTEGER, 
	enabled BOOLEAN NOT NULL, 
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "slot" VALUES('recurring','06:00:00.000000','null',NULL,NULL,NULL,30,NULL,NULL,1,1,'Buổi sáng','2026-12-01 13:07:04.218207');
INSERT INTO "slot" VALUES('recurring','17:00:00.000000','null',NULL,NULL,NULL,30,NULL,NULL,1,2,'Buổi chiều','2026-12-01 13:07:04.218490');
CREATE TABLE topic (
	position INTEGER NOT NULL, 
	id INTEGER NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	created_by VARCHAR, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
CREATE TABLE web_session (
	id VARCHAR(64) NOT NULL, 
	user_id INTEGER NOT NULL, 
	csrf_token VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_seen DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	flash VARCHAR, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES web_user (id)
);
CREATE TABLE web_user (
	id INTEGER NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	full_name VARCHAR(200), 
	role VARCHAR(8) NOT NULL, 
	password_hash VARCHAR NOT NULL, 
	active BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	created_by VARCHAR, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
INSERT INTO "web_user" VALUES(1,'quantri','Nguyễn Văn Quản','admin','$argon2id$v=19$m=65536,t=3,p=4$A3D7eVfJOI3LcFMDbjMMPw$7qrDdnk46NsGdzfLJAAtTecAW5nc0OzTZwb8sv9z+A8',1,'2026-12-01 13:07:04.636667','quantri');
INSERT INTO "web_user" VALUES(2,'bientap','Trần Thị Biên','editor','$argon2id$v=19$m=65536,t=3,p=4$fcCseRbYOPrpLbSvmh3Ddg$pdDJKwFa9DoY5nrFCKepAnfiB5gWaGPRbU4ifp3aJt8',1,'2026-12-01 13:07:05.118301','quantri');
INSERT INTO "web_user" VALUES(3,'lanhdao','Lê Văn Lãnh','leader','$argon2id$v=19$m=65536,t=3,p=4$O4rhyHDYWMIK55bOQaccoQ$sJYyhUIjkd+ollptzZAbqfv+KqbH77wgseSE/4icQWE',1,'2026-12-01 13:07:05.673089','quantri');
INSERT INTO "web_user" VALUES(4,'trucdai','Phạm Thị Trực','operator','$argon2id$v=19$m=65536,t=3,p=4$CSchWo83bD5dIiT1sppz9Q$0On7DbScmC5wuF5cB8sA/ohaUdO88KHknaI8pmo/Iko',1,'2026-12-01 13:07:06.239059','quantri');
CREATE INDEX ix_bulletin_status ON bulletin (status);
CREATE INDEX ix_as_run_kind ON as_run (kind);
CREATE INDEX ix_as_run_status ON as_run (status);
CREATE INDEX ix_as_run_operator_started ON as_run (operator, started_at);
CREATE INDEX ix_as_run_kind_started ON as_run (kind, started_at);
CREATE INDEX ix_as_run_class_started ON as_run (bulletin_class, started_at);
CREATE INDEX ix_as_run_planned_slot ON as_run (planned_at, slot);
CREATE INDEX ix_as_run_bulletin_id ON as_run (bulletin_id);
CREATE INDEX ix_as_run_status_started ON as_run (status, started_at);
CREATE INDEX ix_as_run_started_at ON as_run (started_at);
CREATE INDEX ix_audit_at ON audit (at);
CREATE INDEX ix_audit_object ON audit (object_type, object_id);
CREATE INDEX ix_audit_user ON audit (user);
CREATE INDEX ix_web_session_user_id ON web_session (user_id);
CREATE INDEX ix_web_session_expires_at ON web_session (expires_at);
COMMIT;
