COPY staging_songs FROM 's3://udacity-dend/song_data'
        WITH CREDENTIALS AS 'aws_iam_role=arn:aws:iam::123456789012:role/dwhRole'
        FORMAT AS JSON AS 'auto'
        COMPUPDATE OFF
MAXERROR AS 0
STATUPDATE OFF;

COPY staging_events FROM 's3://udacity-dend/log_data'
        WITH CREDENTIALS AS 'aws_iam_role=arn:aws:iam::123456789012:role/dwhRole'
        FORMAT AS JSON AS 's3://udacity-dend/log_json_path.json'
        COMPUPDATE OFF
MAXERROR AS 0
STATUPDATE OFF;
